import Foundation
import InferenceService
import Testing

/// Starts real processes with `metis up` on a temporary data directory.
@Suite("metis up", .serialized)
struct MetisUpTests {
    @Test("all services come up healthy, survive a SIGKILL of tracking, and stop on SIGTERM")
    func upHealthRestartShutdown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-up-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let port = try MetisProcesses.freePort()
        let up = Process()
        up.executableURL = MetisProcesses.executable("metis")
        up.arguments = [
            "up", "--data", data.path, "--port", String(port), "--dicom-port", String(try MetisProcesses.freePort()), "--inference-workers",
            "2", "--log-level", "warning",
        ]
        let output = Pipe()
        up.standardOutput = output
        try up.run()
        defer { if up.isRunning { up.terminate() } }

        let healthz = "http://127.0.0.1:\(port)/healthz"
        let report = try #require(await MetisProcesses.waitForHealthy(healthz, timeout: .seconds(90)), "metis up did not become healthy")
        #expect(report.services.map(\.name) == ["storage", "tracking", "inference-0", "inference-1"])
        #expect(report.services.allSatisfy { $0.status == "SERVING" })
        // The workers run the OpenBLAS kernels chosen for this CPU (Debian's OpenBLAS would fall back to Prescott on recent ones).
        if let core = BLASCoreSelection.recommendedForThisMachine(), ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            for worker in report.services where worker.name.hasPrefix("inference") {
                #expect(worker.details?["blas_core"]?.lowercased() == core.lowercased(), "\(worker.details ?? [:])")
            }
        }
        let announcement = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(announcement.contains("open http://127.0.0.1:\(port)/#token=metis_"), "\(announcement)")
        // The first start made an admin token and handed it over in the address; requests need it.
        let token = String(announcement.split(separator: "#token=").last?.prefix { !$0.isWhitespace } ?? "")
        let studies = "http://127.0.0.1:\(port)/getAllStudies"
        #expect(try await HTTP.request("GET", studies).status == 401)
        #expect(try await HTTP.request("GET", studies, headers: ["Authorization": "Bearer \(token)"]).status == 200)
        #expect(try await HTTP.request("GET", studies, headers: ["Authorization": "Bearer metis_forged"]).status == 401)
        let listed = try await MetisProcesses.run(MetisProcesses.executable("metis"), ["token", "list", "--data", data.path])
        #expect(listed.output.contains("\tadmin\t") && !listed.output.contains(token), "only the token's id is listed, never the token")

        // The sockets: mode 0660 in a 0750 directory; metis-probe (C, libprotobuf-c) speaks to them.
        let run = data.appendingPathComponent("run")
        #expect((try FileManager.default.attributesOfItem(atPath: run.path)[.posixPermissions] as? Int) == 0o750)
        let storageSocket = run.appendingPathComponent("storage.sock").path
        #expect((try FileManager.default.attributesOfItem(atPath: storageSocket)[.posixPermissions] as? Int) == 0o660)
        let probe = MetisProcesses.executable("metis-probe")
        let health = try await MetisProcesses.run(probe, [storageSocket, "health"])
        #expect(health.status == 0)
        #expect(health.output.hasPrefix("metis-storage 0.1.0 pid "))
        #expect(health.output.contains(": SERVING\n  directory="), "\(health.output)")
        let stats = try await MetisProcesses.run(probe, [storageSocket, "stats"])
        #expect(stats.status == 0)
        #expect(stats.output == "patients=0 studies=0 series=0 instances=0 stored_bytes=0 disk_bytes=0 schema=5\n")
        for name in ["tracking", "inference-0", "inference-1"] {
            #expect(try await MetisProcesses.run(probe, [run.appendingPathComponent("\(name).sock").path, "health"]).status == 0)
        }
        // The gateway's socket answers Health with its DIMSE edge (the C probe speaks to it like to the services).
        let gatewayHealth = try await MetisProcesses.run(probe, [run.appendingPathComponent("gateway.sock").path, "health"])
        #expect(gatewayHealth.status == 0 && gatewayHealth.output.hasPrefix("metis-gateway "), "\(gatewayHealth.output)")
        #expect(gatewayHealth.output.contains("  dimse=LISTENING\n"), "\(gatewayHealth.output)")
        let wrongService = try await MetisProcesses.run(probe, [run.appendingPathComponent("tracking.sock").path, "stats"])
        #expect(wrongService.status == 1)
        #expect(wrongService.output.contains("UNIMPLEMENTED"))
        #expect(try await MetisProcesses.run(probe, [run.appendingPathComponent("missing.sock").path, "health"]).status == 1)
        let ping = try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["ping", run.appendingPathComponent("inference-1.sock").path])
        #expect(ping.status == 0)
        #expect(ping.output.contains("metis-inference"))

        // metis import: a folder of two series (one file in a subfolder) and a file that is not DICOM.
        let folder = directory.appendingPathComponent("export")
        try StudyFolder.write(to: folder, series: 2, instancesPerSeries: 5)
        try Data("not dicom".utf8).write(to: folder.appendingPathComponent("README.txt"))
        let metis = MetisProcesses.executable("metis")
        let imported = try await MetisProcesses.run(metis, ["import", "--data", data.path, folder.path])
        #expect(imported.status == 2, "a rejected file makes the exit status 2")
        #expect(imported.output.contains("imported 11 files: 10 stored, 0 already stored, 0 replaced, 1 rejected"), "\(imported.output)")
        #expect(imported.output.contains("rejected \(folder.path)/README.txt: INVALID_ARGUMENT"))
        let again = try await MetisProcesses.run(metis, ["import", "--data", data.path, folder.appendingPathComponent("series-1").path])
        #expect(again.status == 0)
        #expect(again.output.contains("5 already stored"))
        // Through the gateway's ingest pipeline, as STOW-RS and C-STORE: audited as a local import.
        let audit = try String(contentsOf: data.appendingPathComponent("gateway/audit.jsonl"), encoding: .utf8)
        #expect(
            audit.split(separator: "\n").filter { $0.contains("\"client\":\"metis import\"") && $0.contains("\"action\":\"upload\"") }.count
                >= 11)
        let counted = try await MetisProcesses.run(probe, [storageSocket, "stats"])
        #expect(counted.output.hasPrefix("patients=1 studies=1 series=2 instances=10 "))

        // SIGKILL tracking: the supervisor restarts it and the same gateway reaches the new process.
        let tracking = try #require(report.services.first { $0.name == "tracking" }?.pid)
        kill(Int32(tracking), SIGKILL)
        var recovered: HealthzReport?
        let deadline = ContinuousClock.now + .seconds(60)
        while recovered == nil, ContinuousClock.now < deadline {
            if let current = await MetisProcesses.health(healthz), current.status == "ok",
                let pid = current.services.first(where: { $0.name == "tracking" })?.pid, pid != tracking
            {
                recovered = current
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let after = try #require(recovered, "tracking did not come back")
        #expect(after.pid == report.pid, "the gateway was not restarted")
        #expect(after.services.first { $0.name == "storage" }?.pid == report.services.first { $0.name == "storage" }?.pid)

        // SIGTERM: everything stops, sockets are removed, exit status 0.
        let children = after.services.compactMap(\.pid).map(Int32.init) + [after.pid]
        up.terminate()
        let stopDeadline = ContinuousClock.now + .seconds(40)
        while up.isRunning, ContinuousClock.now < stopDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!up.isRunning)
        #expect(up.terminationStatus == 0)
        for pid in children { #expect(!MetisProcesses.isAlive(pid), "process \(pid) still running") }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".sock") }
        #expect(leftovers.isEmpty)
    }

    @Test("metis up exits non-zero, leaving nothing running, when a service cannot start")
    func startupFailure() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-up-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Occupy the gateway's port.
        let port = try MetisProcesses.freePort()
        let blocker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(blocker) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(blocker, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(blocker, 1)

        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "up", "--data", directory.appendingPathComponent("data").path, "--port", String(port), "--dicom-port", "0", "--log-level",
                "error",
            ])
        #expect(result.status != 0)
        let run = directory.appendingPathComponent("data/run")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: run.path))?.filter { $0.hasSuffix(".sock") } ?? []
        #expect(leftovers.isEmpty)
    }

    @Test("bad flags are refused before anything starts")
    func badFlags() async throws {
        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["up", "--inference-workers", "0", "--data", "/nonexistent/x"])
        #expect(result.status != 0)
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/x"))
        let open = try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["up", "--auth", "none", "--host", "0.0.0.0", "--data", "/nonexistent/y"])
        #expect(open.status != 0, "no authentication is refused on a non-loopback address")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/y"))
    }
}
