import Foundation
public import Logging
public import MetisRPC

/// Builds the metis-storage process: opens the blob store and the index, and
/// returns the RPC server (a lifecycle `Service`) that serves them.
public enum StorageServer {
    public static let component = "metis-storage"

    public static func build(configuration: StorageConfiguration, version: String, logger: Logger) async throws -> RPCServer {
        try FileManager.default.createDirectory(at: configuration.directory, withIntermediateDirectories: true)
        let blobs = try BlobStore(directory: configuration.blobDirectory)
        let index = try StorageIndex(path: configuration.indexPath)
        try await repair(blobs: blobs, index: index, logger: logger)
        var router = RPCRouter()
        router.register(
            StorageRPCService(
                index: index, blobs: blobs, conflictPolicy: configuration.conflictPolicy, strictValidation: configuration.strictValidation))
        router.register(
            HealthService(component: component, version: version) {
                do {
                    try await index.check()
                    return (true, ["directory": configuration.directory.path])
                } catch {
                    return (false, ["directory": configuration.directory.path, "error": "index unavailable: \(error)"])
                }
            })
        var rpc = configuration.rpc
        // Parsing and hashing a large upload takes a while: keep it off the event loop.
        rpc.runsHandlersOnEventLoop = false
        return RPCServer(address: configuration.address, router: router, configuration: rpc, logger: logger)
    }

    /// Start-up check: removes what a crash can leave — partial temporary
    /// files, blobs no row references — and rows whose blob is missing.
    static func repair(blobs: BlobStore, index: StorageIndex, logger: Logger) async throws {
        let temporaries = blobs.removeTemporaries()
        let onDisk = blobs.allHashes()
        let indexed = try await index.allHashes()
        let orphans = onDisk.subtracting(indexed)
        for hash in orphans { blobs.remove(hash) }
        let dangling = try await index.removeInstances(withHashes: indexed.subtracting(onDisk))
        if temporaries + orphans.count > 0 {
            logger.notice("start-up check removed \(temporaries) partial files and \(orphans.count) unreferenced blobs")
        }
        if dangling > 0 {
            logger.error("start-up check removed \(dangling) index rows whose blob was missing")
        }
    }
}
