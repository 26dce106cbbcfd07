import Foundation
public import Logging
public import MetisRPC

/// Builds the metis-storage process: opens the blob store and the index, and
/// returns the RPC server (a lifecycle `Service`) that serves them.
public enum StorageServer {
    public static let component = "metis-storage"

    public static func build(configuration: StorageConfiguration, version: String, logger: Logger) throws -> RPCServer {
        try FileManager.default.createDirectory(at: configuration.directory, withIntermediateDirectories: true)
        let blobs = try BlobStore(directory: configuration.blobDirectory)
        let index = try StorageIndex(path: configuration.indexPath)
        var router = RPCRouter()
        router.register(StorageRPCService(index: index, blobs: blobs))
        router.register(
            HealthService(component: component, version: version) {
                do {
                    try await index.check()
                    return (true, ["directory": configuration.directory.path])
                } catch {
                    return (false, ["directory": configuration.directory.path, "error": "index unavailable: \(error)"])
                }
            })
        return RPCServer(address: configuration.address, router: router, configuration: configuration.rpc, logger: logger)
    }
}
