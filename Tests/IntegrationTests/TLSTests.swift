import Foundation
import TestSupport
import Testing

/// The gateway over TLS with a certificate from `metis cert self-signed`,
/// checked by an independent client (Python's ssl, verifying the chain and
/// the host name against that certificate).
@Suite("Gateway over TLS", .serialized)
struct TLSTests {
    @Test("metis cert self-signed, then HTTPS only, with HSTS; half a TLS configuration is refused")
    func https() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let metis = MetisProcesses.executable("metis")
        let made = try await MetisProcesses.run(metis, ["cert", "self-signed", "--certificate", certificate, "--key", key])
        #expect(made.status == 0, "\(made.output)")
        #expect((try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int) == 0o600)
        let half = try await MetisProcesses.run(
            metis, ["up", "--data", directory.appendingPathComponent("x").path, "--tls-certificate", certificate])
        #expect(half.status != 0)

        let port = try MetisProcesses.freePort()
        let up = Process()
        up.executableURL = metis
        up.arguments = [
            "up", "--data", directory.appendingPathComponent("data").path, "--port", String(port), "--dicom-port",
            String(try MetisProcesses.freePort()), "--dicom-tls-port", String(try MetisProcesses.freePort()), "--model", "none",
            "--log-level", "warning", "--tls-certificate", certificate, "--tls-key", key,
        ]
        let output = Pipe()
        up.standardOutput = output
        try up.run()
        // Never waited for in a defer: that would block one of the two threads every test shares.
        defer { if up.isRunning { up.terminate() } }
        var announcement = ""
        for _ in 0..<600 where !announcement.contains("Metis is running") {
            announcement += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(announcement.contains("open https://127.0.0.1:\(port)/#token=metis_"), "\(announcement)")

        let script = """
            import json, ssl, sys, urllib.request
            context = ssl.create_default_context(cafile=sys.argv[1])
            with urllib.request.urlopen("https://localhost:" + sys.argv[2] + "/api/v1/session", context=context, timeout=30) as answer:
                print(answer.headers["Strict-Transport-Security"], json.load(answer)["authentication"])
            """
        let checked = try await MetisProcesses.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, certificate, String(port)])
        #expect(checked.status == 0 && checked.output == "max-age=31536000 tokens\n", "\(checked.output)")
        #expect(await MetisProcesses.get("http://127.0.0.1:\(port)/healthz") == nil, "plain HTTP is not served")
        up.terminate()
        await MetisProcesses.waitForExit(up)
    }

    @Test(
        "DICOM over TLS (PS3.15 Annex B): dcmtk echoes and stores on the TLS port and not in plain text; Metis sends a C-MOVE to a TLS storescp that requires its certificate",
        .enabled(if: DIMSEEdgeTests.hasDCMTK || ProcessInfo.processInfo.environment["CI"] != nil))
    func dicomTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dtls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let metis = MetisProcesses.executable("metis")
        for prefix in ["metis", "plan"] {
            let made = try await MetisProcesses.run(
                metis, ["cert", "self-signed", "--certificate", file("\(prefix)-cert.pem"), "--key", file("\(prefix)-key.pem")])
            try #require(made.status == 0, "\(made.output)")
        }
        let port = try MetisProcesses.freePort(), dicomPort = try MetisProcesses.freePort(), tlsPort = try MetisProcesses.freePort()
        let planPort = try MetisProcesses.freePort()
        let up = Process()
        up.executableURL = metis
        up.arguments = [
            "up", "--data", file("data"), "--port", String(port), "--auth", "none", "--model", "none", "--log-level", "warning",
            "--tls-certificate", file("metis-cert.pem"), "--tls-key", file("metis-key.pem"), "--dicom-port", String(dicomPort),
            "--dicom-tls-port", String(tlsPort), "--dicom-tls-trust", file("plan-cert.pem"),
            "--dicom-peers", "SCANNER@127.0.0.1:104/store, WS@127.0.0.1:105, PLAN@127.0.0.1:\(planPort)/store+tls",
        ]
        up.standardOutput = FileHandle.nullDevice
        try up.run()
        defer { if up.isRunning { up.terminate() } }
        let tls = ["+tla", "+cf", file("metis-cert.pem")]
        var echoed = false
        for _ in 0..<300 where !echoed {
            echoed =
                try await DIMSEEdgeTests.dcmtk("echoscu", tls + ["-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(tlsPort)]).status
                == 0
            if !echoed { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(echoed, "no C-ECHO over TLS")
        let plain = try await DIMSEEdgeTests.dcmtk(
            "echoscu", ["-to", "5", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(tlsPort)])
        #expect(plain.status != 0, "plain text on the TLS port: \(plain.text)")
        let mr = try MRStudy(study: "2.25.4433", patientID: "PAT-TLS", patientName: "Tls^Test", date: "20260202", series: 1, slices: 3)
        let files = try DIMSEEdgeTests.write(mr.instances.map(\.bytes), to: directory.appendingPathComponent("send"))
        let stored = try await DIMSEEdgeTests.dcmtk(
            "storescu", tls + ["-v", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(tlsPort)] + files)
        #expect(stored.status == 0 && stored.text.components(separatedBy: "Received Store Response (Success)").count == 4, "\(stored.text)")

        // metis dicom calls a +tls peer over TLS, trusting dicom_tls_trust; with the wrong trust it refuses the peer.
        for (trust, succeeds) in [(file("metis-cert.pem"), true), (file("plan-cert.pem"), false)] {
            let echo = try await MetisProcesses.run(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["METIS_DICOM_TLS_TRUST=\(trust)", metis.path, "dicom", "echo", "--aet", "SCANNER", "METIS@127.0.0.1:\(tlsPort)/tls"])
            #expect((echo.status == 0) == succeeds && echo.output.contains("C-ECHO 0x0000") == succeeds, "\(trust): \(echo.output)")
        }

        // Metis as TLS client: the planning system checks Metis's certificate, Metis checks the planning system's.
        let plan = directory.appendingPathComponent("plan")
        try FileManager.default.createDirectory(at: plan, withIntermediateDirectories: true)
        let storescp = try DIMSEEdgeTests.peer(
            "/usr/bin/storescp",
            [
                "+tls", file("plan-key.pem"), file("plan-cert.pem"), "-rc", "+cf", file("metis-cert.pem"), "-aet", "PLAN", "-od", plan.path,
                String(planPort),
            ])
        defer { DIMSEEdgeTests.stop(storescp) }
        try await Task.sleep(for: .milliseconds(300))
        let moved = try await DIMSEEdgeTests.dcmtk(
            "movescu",
            [
                "-v", "-aet", "WS", "-aec", "METIS", "-aem", "PLAN", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                "StudyInstanceUID=2.25.4433", "127.0.0.1", String(dicomPort),
            ])
        #expect(moved.text.contains("Received Final Move Response (Success)"), "\(moved.text)")
        #expect(try DIMSEEdgeTests.received(in: plan).count == 3)
        up.terminate()
        await MetisProcesses.waitForExit(up)
    }
}
