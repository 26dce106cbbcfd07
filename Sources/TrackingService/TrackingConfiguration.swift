public import Foundation
public import MetisRPC

/// Where metis-tracking keeps its database and listens.
public struct TrackingConfiguration: Sendable {
    /// `<data>/tracking`: holds `tracking.sqlite`.
    public var directory: URL
    public var address: RPCAddress
    public var rpc: RPCServer.Configuration

    public init(directory: URL, address: RPCAddress, rpc: RPCServer.Configuration = .init()) {
        self.directory = directory
        self.address = address
        self.rpc = rpc
    }

    var databasePath: String { directory.appendingPathComponent("tracking.sqlite").path }
}
