import Foundation
import Logging
import Testing

@testable import MetisRPC

/// Where plain TCP is allowed and how TLS files are refused. The TLS
/// handshakes themselves are checked between real processes
/// (IntegrationTests' RPCTLSTests), with certificates from `metis cert`.
@Suite("RPC transport security")
struct TransportSecurityTests {
    @Test(
        "plain TCP is local only: Unix sockets and loopback, never another host",
        arguments: [
            ("/run/metis/storage.sock", true), ("tcp://127.0.0.1:7000", true), ("tcp://127.9.9.9:7000", true), ("tcp://[::1]:7000", true),
            ("tcp://localhost:7000", true), ("tcp://0.0.0.0:7000", false), ("tcp://10.0.0.4:7000", false),
            ("tcp://metis-inference-0.metis-inference:7070", false), ("tcp://[::]:7000", false),
        ])
    func locality(address: String, local: Bool) throws {
        #expect(try RPCAddress(parsing: address).isLocal == local)
    }

    @Test("a server refuses to listen in plain text where other machines reach it, naming the settings that fix it")
    func plainListenRefused() async throws {
        let server = RPCServer(
            address: .tcp(host: "0.0.0.0", port: 0), router: TestMethods.router(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        do {
            try await server.run()
            Issue.record("a plain-text server listened on 0.0.0.0")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("rpc_tls_certificate"), "\(error.message)")
        }
    }

    @Test("a client refuses to send a call in plain text to another host, at once and every time")
    func plainCallRefused() async throws {
        // 192.0.2.0/24 is TEST-NET-1: nothing answers there. A refusal handled as a
        // connection failure would back off and retry until the deadline instead.
        let connection = RPCConnection(address: .tcp(host: "192.0.2.10", port: 7070))
        for _ in 0..<2 {
            do {
                _ = try await connection.echo("x", options: CallOptions(timeout: .seconds(30)))
                Issue.record("a plain-text call went out")
            } catch let error as RPCError {
                #expect(error.code == .failedPrecondition, "\(error)")
                #expect(error.message.contains("plain text") && error.message.contains("rpc_tls_trust"), "\(error.message)")
            }
        }
        await connection.close()
    }

    @Test("missing or non-PEM TLS files are named in the error")
    func unusableFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-rpc-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.pem")
        try Data("not a certificate".utf8).write(to: garbage)
        let missing = directory.appendingPathComponent("missing.pem").path

        #expect {
            try RPCTransportSecurity(certificateFile: missing, privateKeyFile: missing, trustFile: missing)
        } throws: { error in
            "\(error)".contains("RPC TLS certificate \(missing): cannot be read")
        }
        #expect {
            try RPCTransportSecurity(certificateFile: garbage.path, privateKeyFile: missing, trustFile: missing)
        } throws: { error in
            "\(error)".contains("RPC TLS certificate \(garbage.path)")
        }
    }
}
