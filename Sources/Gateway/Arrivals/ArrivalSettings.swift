public import Foundation
public import MetisProcess

/// The arrival rules and what they need: when a series is complete, where the
/// queue is kept, and whom results may be sent to.
public struct ArrivalSettings: Sendable {
    public var rules: [ArrivalRule]
    public var stableSeconds: Int
    public var retrySeconds: Int
    /// The persisted state (series being watched, jobs): survives a restart.
    public var file: URL
    /// Metis's AE title and the peers, for `send` and `forward`.
    public var aeTitle: String
    public var peers: [DICOMPeer]

    public init(rules: [ArrivalRule], stableSeconds: Int, retrySeconds: Int, file: URL, aeTitle: String, peers: [DICOMPeer]) {
        self.rules = rules
        self.stableSeconds = stableSeconds
        self.retrySeconds = retrySeconds
        self.file = file
        self.aeTitle = aeTitle
        self.peers = peers
    }
}
