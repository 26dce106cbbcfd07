/// Per-call settings of a client call.
public struct CallOptions: Sendable {
    /// How long the caller waits for the whole call; `nil` waits forever.
    public var timeout: Duration?
    /// Sent in `Frame.metadata` (trace id, caller, ...).
    public var metadata: [String: String]
    /// Wait for the connection to come up (within `timeout`) instead of
    /// failing at once with `UNAVAILABLE` while the server is down.
    public var waitForReady: Bool

    public init(timeout: Duration? = .seconds(30), metadata: [String: String] = [:], waitForReady: Bool = false) {
        self.timeout = timeout
        self.metadata = metadata
        self.waitForReady = waitForReady
    }
}
