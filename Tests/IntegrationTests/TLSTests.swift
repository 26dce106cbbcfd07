import Foundation
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
            String(try MetisProcesses.freePort()), "--model", "none",
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
}
