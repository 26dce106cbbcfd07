import Foundation
public import SwiftProtobuf

/// Maps method names to handlers. Generated `registerMethods(with:)` fills it.
public struct RPCRouter: Sendable {
    /// A type-erased handler: decodes the payload, runs, and returns the final
    /// payload (unary) or `nil` after streaming through `send` (server streaming).
    typealias Handler =
        @Sendable (
            _ payload: Data, _ context: ServerContext, _ send: @escaping @Sendable (Data) async throws -> Void
        ) async throws -> Data?

    struct Route: Sendable {
        let method: MethodDescriptor
        let handler: Handler
    }

    private(set) var routes: [String: Route] = [:]

    public init() {}

    /// Adds every method of `service`.
    public mutating func register(_ service: some RPCService) {
        service.registerMethods(with: &self)
    }

    /// The methods served, by full name.
    public var methods: [MethodDescriptor] { routes.values.map(\.method) }

    public mutating func registerUnary<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        input: Input.Type,
        output: Output.Type,
        handler: @escaping @Sendable (Input, ServerContext) async throws -> Output
    ) {
        routes[method.fullName] = Route(method: method) { payload, context, _ in
            let request = try Self.decode(Input.self, from: payload, method: method)
            let response = try await handler(request, context)
            do {
                return try response.serializedBytes()
            } catch {
                throw RPCError(code: .internal, message: "response does not encode: \(error)", cause: error)
            }
        }
    }

    public mutating func registerServerStreaming<Input: SwiftProtobuf.Message, Output: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        input: Input.Type,
        output: Output.Type,
        handler: @escaping @Sendable (Input, ResponseStreamWriter<Output>, ServerContext) async throws -> Void
    ) {
        routes[method.fullName] = Route(method: method) { payload, context, send in
            let request = try Self.decode(Input.self, from: payload, method: method)
            try await handler(request, ResponseStreamWriter(send: send), context)
            return nil
        }
    }

    private static func decode<Input: SwiftProtobuf.Message>(
        _ type: Input.Type,
        from payload: Data,
        method: MethodDescriptor
    ) throws(RPCError) -> Input {
        do {
            return try Input(serializedBytes: payload)
        } catch {
            throw RPCError(
                code: .invalidArgument,
                message: "request payload of \(method) does not decode as \(Input.protoMessageName): \(error)",
                cause: error
            )
        }
    }
}
