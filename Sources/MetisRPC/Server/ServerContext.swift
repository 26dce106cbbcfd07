public import Logging

/// What a handler knows about the call it serves.
public struct ServerContext: Sendable {
    public let method: MethodDescriptor
    public let requestID: UInt64
    /// The caller's metadata (trace id, caller, ...).
    public let metadata: [String: String]
    /// When the caller stops waiting; `nil` when it set no deadline.
    public let deadline: ContinuousClock.Instant?
    private let serverLogger: Logger

    init(method: MethodDescriptor, requestID: UInt64, metadata: [String: String], deadline: ContinuousClock.Instant?, logger: Logger) {
        self.method = method
        self.requestID = requestID
        self.metadata = metadata
        self.deadline = deadline
        self.serverLogger = logger
    }

    /// The server's logger with `rpc.method`, `rpc.request_id` and the caller's
    /// `trace_id`; built when asked for, so calls that do not log pay nothing.
    public var logger: Logger {
        var logger = serverLogger
        logger[metadataKey: "rpc.method"] = "\(method.fullName)"
        logger[metadataKey: "rpc.request_id"] = "\(requestID)"
        if let trace = metadata["trace-id"] { logger[metadataKey: "trace_id"] = "\(trace)" }
        return logger
    }
}
