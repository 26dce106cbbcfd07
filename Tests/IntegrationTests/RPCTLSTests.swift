import Foundation
import Testing

/// Mutual TLS on the RPC transport between real processes: an inference
/// worker on TCP with a certificate from `metis cert self-signed`, reached by
/// the C probe (OpenSSL), `metis ping` and a gateway (swift-nio-ssl); callers
/// without TLS, with a certificate the worker does not trust, or trusting
/// another certificate are all turned away.
@Suite("RPC over TCP with mutual TLS", .serialized)
struct RPCTLSTests {
    @Test("a TLS worker serves trusted peers only; plain text to other machines is refused at both ends")
    func mutualTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-rpc-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let metis = MetisProcesses.executable("metis"), probe = MetisProcesses.executable("metis-probe")
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for site in ["site", "stranger"] {
            let made = try await MetisProcesses.run(
                metis,
                [
                    "cert", "self-signed", "--certificate", file("\(site).pem"), "--key", file("\(site)-key.pem"),
                    "--name", "localhost", "--name", "127.0.0.1",
                ])
            #expect(made.status == 0, "\(made.output)")
        }
        let site = ["--rpc-tls-certificate", file("site.pem"), "--rpc-tls-key", file("site-key.pem"), "--rpc-tls-trust", file("site.pem")]

        // Plain text where other machines can reach it: refused at start, with the reason.
        let plain = try await MetisProcesses.run(
            metis, ["inference", "--data", file("plain"), "--model", "none", "--listen", "tcp://0.0.0.0:\(try MetisProcesses.freePort())"],
            includingErrors: true)
        #expect(plain.status != 0 && plain.output.contains("in plain text"), "\(plain.output)")
        // Two of three TLS settings: a configuration error.
        let partial = try await MetisProcesses.run(
            metis, ["ping", "tcp://127.0.0.1:1", "--rpc-tls-certificate", file("site.pem")], includingErrors: true)
        #expect(partial.status != 0 && partial.output.contains("rpc_tls_trust"), "\(partial.output)")

        let port = try MetisProcesses.freePort()
        let address = "tcp://127.0.0.1:\(port)"
        let worker = Process()
        worker.executableURL = metis
        worker.arguments =
            ["inference", "--data", file("data"), "--model", "none", "--log-level", "warning", "--listen", "tcp://0.0.0.0:\(port)"] + site
        try worker.run()
        // Never waited for in a defer: that would block one of the two threads every test shares.
        defer { if worker.isRunning { worker.terminate() } }

        let probeTLS = ["--tls-certificate", file("site.pem"), "--tls-key", file("site-key.pem"), "--tls-trust", file("site.pem")]
        var serving = (status: Int32(1), output: "")
        for _ in 0..<300 where serving.status != 0 {
            serving = try await MetisProcesses.run(probe, [address, "health"] + probeTLS)
            if serving.status != 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(serving.status == 0 && serving.output.contains("SERVING"), "C probe over TLS: \(serving.output)")
        let byName = try await MetisProcesses.run(probe, ["tcp://localhost:\(port)", "health"] + probeTLS)
        #expect(byName.status == 0, "the certificate names localhost: \(byName.output)")

        let noTLS = try await MetisProcesses.run(probe, [address, "health", "--timeout", "3"])
        #expect(noTLS.status == 1 && !noTLS.output.contains("SERVING"), "plain text to a TLS worker: \(noTLS.output)")
        let untrustedClient = try await MetisProcesses.run(
            probe,
            [
                address, "health", "--timeout", "3", "--tls-certificate", file("stranger.pem"), "--tls-key", file("stranger-key.pem"),
                "--tls-trust", file("site.pem"),
            ])
        #expect(
            untrustedClient.status == 1 && !untrustedClient.output.contains("SERVING"),
            "a stranger's certificate: \(untrustedClient.output)")
        let untrustedServer = try await MetisProcesses.run(
            probe,
            [
                address, "health", "--tls-certificate", file("site.pem"), "--tls-key", file("site-key.pem"), "--tls-trust",
                file("stranger.pem"),
            ])
        #expect(untrustedServer.status == 1 && untrustedServer.output.contains("server certificate refused"), "\(untrustedServer.output)")

        let ping = try await MetisProcesses.run(metis, ["ping", address] + site, includingErrors: true)
        #expect(ping.status == 0 && ping.output.contains("SERVING"), "metis ping over TLS: \(ping.output)")
        let strangerPing = try await MetisProcesses.run(
            metis,
            [
                "ping", address, "--rpc-tls-certificate", file("stranger.pem"), "--rpc-tls-key", file("stranger-key.pem"),
                "--rpc-tls-trust", file("stranger.pem"),
            ], includingErrors: true)
        #expect(strangerPing.status != 0 && !strangerPing.output.contains("SERVING"), "\(strangerPing.output)")

        // A gateway whose worker is on TCP with TLS: its health check reaches it through swift-nio-ssl.
        let gatewayPort = try MetisProcesses.freePort()
        let gateway = Process()
        gateway.executableURL = metis
        gateway.arguments =
            [
                "gateway", "--data", file("data"), "--auth", "none", "--log-level", "warning", "--port", String(gatewayPort),
                "--dicom-port", "0",
                "--inference", "tcp://localhost:\(port)",
            ] + site
        try gateway.run()
        defer { if gateway.isRunning { gateway.terminate() } }
        var reached = false
        for _ in 0..<300 where !reached {
            if let report = await MetisProcesses.health("http://127.0.0.1:\(gatewayPort)/healthz") {
                reached = report.services.contains { $0.name == "inference-0" && $0.status == "SERVING" }
            }
            if !reached { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(reached, "the gateway reaches its TLS worker")
        gateway.terminate()
        worker.terminate()
        await MetisProcesses.waitForExit(gateway)
        await MetisProcesses.waitForExit(worker)
    }
}
