public import Foundation
public import MetisRPC

/// Where metis-storage keeps its data and listens.
public struct StorageConfiguration: Sendable {
    /// `<data>/storage`: holds `blobs/` and `index.sqlite`.
    public var directory: URL
    public var address: RPCAddress
    public var rpc: RPCServer.Configuration
    /// What storing another version of a stored SOP Instance UID does.
    public var conflictPolicy: ConflictPolicy
    /// Refuse files with conformance defects that pydicom and Orthanc accept (mismatched meta header,
    /// non-conformant UIDs, mislabelled VR encoding) instead of storing them as sent with a warning.
    public var strictValidation: Bool

    public enum ConflictPolicy: String, Sendable {
        /// Refuse it with ALREADY_EXISTS (default).
        case refuse
        /// Replace the stored version.
        case overwrite
    }

    public init(
        directory: URL, address: RPCAddress, rpc: RPCServer.Configuration = .init(), conflictPolicy: ConflictPolicy = .refuse,
        strictValidation: Bool = false
    ) {
        self.directory = directory
        self.strictValidation = strictValidation
        self.address = address
        self.rpc = rpc
        self.conflictPolicy = conflictPolicy
    }

    var blobDirectory: URL { directory.appendingPathComponent("blobs", isDirectory: true) }
    var indexPath: String { directory.appendingPathComponent("index.sqlite").path }
}
