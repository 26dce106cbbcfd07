import Foundation
public import SwiftProtobuf

/// Sends the messages of a server-streaming response. Each `write` returns once
/// the message is handed to the socket, so a fast producer waits for a slow reader.
public struct ResponseStreamWriter<Message: SwiftProtobuf.Message>: Sendable {
    private let send: @Sendable (Data) async throws -> Void

    init(send: @escaping @Sendable (Data) async throws -> Void) {
        self.send = send
    }

    public func write(_ message: Message) async throws {
        let payload: Data
        do {
            payload = try message.serializedBytes()
        } catch {
            throw RPCError(code: .internal, message: "response does not encode: \(error)", cause: error)
        }
        try await send(payload)
    }
}
