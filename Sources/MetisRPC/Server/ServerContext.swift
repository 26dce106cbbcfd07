public import Logging

/// What a handler knows about the call it serves.
public struct ServerContext: Sendable {
    public let method: MethodDescriptor
    public let requestID: UInt64
    /// The caller's metadata (trace id, caller, ...).
    public let metadata: [String: String]
    /// When the caller stops waiting; `nil` when it set no deadline.
    public let deadline: ContinuousClock.Instant?
    /// Carries `rpc.method`, `rpc.request_id` and the caller's trace id.
    public var logger: Logger
}
