public import Foundation
public import MetisRPC

/// Where metis-storage keeps its data and listens.
public struct StorageConfiguration: Sendable {
    /// `<data>/storage`: holds `blobs/` and `index.sqlite`.
    public var directory: URL
    public var address: RPCAddress
    public var rpc: RPCServer.Configuration

    public init(directory: URL, address: RPCAddress, rpc: RPCServer.Configuration = .init()) {
        self.directory = directory
        self.address = address
        self.rpc = rpc
    }

    var blobDirectory: URL { directory.appendingPathComponent("blobs", isDirectory: true) }
    var indexPath: String { directory.appendingPathComponent("index.sqlite").path }
}
