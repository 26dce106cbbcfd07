import SwiftProtobuf
import Logging
import Foundation
import Logging
import NIOCore

@testable import MetisRPC

/// A real RPCServer on a Unix socket in a fresh temporary directory.
final class TestServer: Sendable {
    let server: RPCServer
    let address: RPCAddress
    let directory: URL
    private let task: Task<Void, any Error>

    init(router: RPCRouter, address: RPCAddress? = nil, configuration: RPCServer.Configuration = .init()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-rpc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let requested = address ?? .unix(path: directory.appendingPathComponent("test.sock").path)
        server = RPCServer(
            address: requested, router: router, configuration: configuration,
            logger: Logger(label: "test.server") { _ in SwiftLogNoOpLogHandler() })
        task = Task { [server] in try await server.run() }
        let bound = try await server.listeningAddress()
        if case .tcp(let host, _) = requested, let port = bound?.port {
            self.address = .tcp(host: host, port: port)
        } else {
            self.address = requested
        }
    }

    /// Graceful shutdown; returns when the server has drained.
    func stop() async throws {
        server.shutdown()
        try await task.value
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Test methods on `Metis_V1_HealthCheckRequest`/`Response`: `service` carries the
/// instruction, `component` the answer.
enum TestMethods {
    static let echo = MethodDescriptor(service: "test.Echo", method: "Echo", kind: .unary)
    static let sleep = MethodDescriptor(service: "test.Echo", method: "Sleep", kind: .unary)
    static let count = MethodDescriptor(service: "test.Echo", method: "Count", kind: .serverStreaming)
    static let fail = MethodDescriptor(service: "test.Echo", method: "Fail", kind: .unary)
    static let gated = MethodDescriptor(service: "test.Echo", method: "Gated", kind: .unary)

    /// Holds `Gated` calls until the test opens their gate by name.
    actor Gates {
        private var open: Set<String> = []
        private var waiting: [String: CheckedContinuation<Void, Never>] = [:]
        var arrived: Set<String> { Set(waiting.keys) }

        func wait(_ name: String) async {
            if open.contains(name) { return }
            await withCheckedContinuation { waiting[name] = $0 }
        }

        func open(_ name: String) {
            open.insert(name)
            waiting.removeValue(forKey: name)?.resume()
        }
    }

    /// Records which calls saw their task cancelled.
    actor Observations {
        var cancelled: [String] = []
        func recordCancelled(_ name: String) { cancelled.append(name) }
    }

    static func router(name: String = "server", observations: Observations = Observations(), gates: Gates = Gates()) -> RPCRouter {
        var router = RPCRouter()
        router.registerUnary(gated, input: Metis_V1_HealthCheckRequest.self, output: Metis_V1_HealthCheckResponse.self) { request, _ in
            await gates.wait(request.service)
            return .with { $0.component = request.service }
        }
        router.register(HealthService(component: name, version: "test"))
        router.registerUnary(echo, input: Metis_V1_HealthCheckRequest.self, output: Metis_V1_HealthCheckResponse.self) { request, _ in
            .with { $0.component = "\(name):\(request.service)" }
        }
        router.registerUnary(sleep, input: Metis_V1_HealthCheckRequest.self, output: Metis_V1_HealthCheckResponse.self) { request, _ in
            let milliseconds = Int(request.service) ?? 0
            do {
                try await Task.sleep(for: .milliseconds(milliseconds))
            } catch {
                await observations.recordCancelled(request.service)
                throw error
            }
            return .with { $0.component = request.service }
        }
        router.registerServerStreaming(count, input: Metis_V1_HealthCheckRequest.self, output: Metis_V1_HealthCheckResponse.self) {
            request, writer, _ in
            let parts = request.service.split(separator: ",")
            let total = Int(parts[0]) ?? 0
            for index in 0..<total {
                try await writer.write(.with { $0.component = String(index) })
            }
            if parts.count > 1 {
                throw RPCError(code: .dataLoss, message: String(parts[1]))
            }
        }
        router.registerUnary(fail, input: Metis_V1_HealthCheckRequest.self, output: Metis_V1_HealthCheckResponse.self) { request, _ in
            throw RPCError(code: .notFound, message: "no such thing: \(request.service)")
        }
        return router
    }
}

extension RPCCaller {
    func echo(_ text: String, options: CallOptions = .init()) async throws -> String {
        let response: Metis_V1_HealthCheckResponse = try await unary(
            TestMethods.echo, request: Metis_V1_HealthCheckRequest.with { $0.service = text }, options: options)
        return response.component
    }

    func sleep(milliseconds: Int, options: CallOptions = .init()) async throws -> String {
        let response: Metis_V1_HealthCheckResponse = try await unary(
            TestMethods.sleep, request: Metis_V1_HealthCheckRequest.with { $0.service = String(milliseconds) }, options: options)
        return response.component
    }
}

/// A raw Unix-socket client for sending bytes that no well-behaved client would.
struct RawSocket {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw RPCError(code: .unavailable, message: "connect failed: \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads one length-prefixed frame, or nil when the server closed the connection.
    func readFrame() -> Metis_V1_Frame? {
        guard let header = read(count: 4) else { return nil }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard let body = read(count: length) else { return nil }
        return try? Metis_V1_Frame(serializedBytes: body)
    }

    /// True when the server closed the connection (read returns 0).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return Glibc.read(fd, &byte, 1) == 0
    }

    private func read(count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n <= 0 { return nil }
            got += n
        }
        return bytes
    }

    func close() { Glibc.close(fd) }
}

func framed(_ frame: Metis_V1_Frame) throws -> [UInt8] {
    let body: [UInt8] = try frame.serializedBytes()
    let length = UInt32(body.count)
    return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + body
}
