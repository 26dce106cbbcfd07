public import Foundation
public import SwiftProtobuf

/// Anything that can carry calls: one `RPCConnection` or an `RPCClientPool`.
/// Generated clients take one.
public protocol RPCCaller: Sendable {
    /// Sends a request and returns the single response payload.
    func call(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data
    /// Sends a request and returns the response payloads as they arrive.
    func stream(_ method: MethodDescriptor, payload: Data, options: CallOptions) -> AsyncThrowingStream<Data, any Error>
}

extension RPCCaller {
    /// A typed unary call.
    public func unary<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        request: Input,
        options: CallOptions = .init()
    ) async throws -> Output {
        let payload = try encode(request, method: method)
        let response = try await call(method, payload: payload, options: options)
        return try decode(Output.self, from: response, method: method)
    }

    /// A typed server-streaming call.
    public func serverStreaming<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        request: Input,
        options: CallOptions = .init()
    ) -> RPCResponseStream<Output> {
        do {
            let payload = try encode(request, method: method)
            return RPCResponseStream(method: method, payloads: stream(method, payload: payload, options: options))
        } catch {
            return RPCResponseStream(method: method, payloads: AsyncThrowingStream { $0.finish(throwing: error) })
        }
    }
}

private func encode(_ request: some SwiftProtobuf.Message, method: MethodDescriptor) throws(RPCError) -> Data {
    do {
        return try request.serializedBytes()
    } catch {
        throw RPCError(code: .internal, message: "request of \(method) does not encode: \(error)", cause: error)
    }
}

func decode<Output: SwiftProtobuf.Message>(
    _ type: Output.Type,
    from payload: Data,
    method: MethodDescriptor
) throws(RPCError) -> Output {
    do {
        return try Output(serializedBytes: payload)
    } catch {
        throw RPCError(
            code: .internal,
            message: "response of \(method) does not decode as \(Output.protoMessageName): \(error)",
            cause: error
        )
    }
}

/// The typed messages of a server-streaming response, in order; throws the
/// call's error status if it ends with one.
public struct RPCResponseStream<Output: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    public typealias Element = Output

    let method: MethodDescriptor
    let payloads: AsyncThrowingStream<Data, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        let method: MethodDescriptor
        var payloads: AsyncThrowingStream<Data, any Error>.AsyncIterator

        public mutating func next() async throws -> Output? {
            guard let payload = try await payloads.next() else { return nil }
            return try decode(Output.self, from: payload, method: method)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(method: method, payloads: payloads.makeAsyncIterator())
    }
}
