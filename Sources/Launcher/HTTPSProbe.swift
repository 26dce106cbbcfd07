import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// `GET` over HTTPS for the supervisor's readiness check of a TLS gateway:
/// the certificate is not verified (it may be self-signed, and the answer is
/// trusted only if it names the process the supervisor started).
enum HTTPSProbe {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The body of `GET path` on host:port.
    static func get(host: String, port: Int, path: String) async throws -> Data {
        var settings = TLSConfiguration.makeClientConfiguration()
        settings.certificateVerification = .none
        let context = try NIOSSLContext(configuration: settings)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var answer = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"))
            for try await var chunk in inbound { answer.writeBuffer(&chunk) }
        }
        let text = Data(answer.readableBytesView)
        guard let separator = text.range(of: Data("\r\n\r\n".utf8)) else {
            throw Failure(description: "no HTTP answer from \(host):\(port)")
        }
        let head = String(decoding: text[..<separator.lowerBound], as: UTF8.self).lowercased()
        let body = Data(text[separator.upperBound...])
        return head.contains("transfer-encoding: chunked") ? dechunk(body) : body
    }

    private static func dechunk(_ data: Data) -> Data {
        var result = Data()
        var rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)),
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16), size > 0
        {
            let start = line.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let end = rest.index(start, offsetBy: size)
            result.append(rest[start..<end])
            rest = rest[rest.index(end, offsetBy: min(2, rest.distance(from: end, to: rest.endIndex)))...]
        }
        return result
    }
}
