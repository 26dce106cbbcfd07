import Foundation
public import Logging
public import MetisRPC

/// Builds the metis-tracking process: opens the follow-up database and returns
/// the RPC server (a lifecycle `Service`) that serves it.
public enum TrackingServer {
    public static let component = "metis-tracking"

    public static func build(configuration: TrackingConfiguration, version: String, logger: Logger) throws -> RPCServer {
        try FileManager.default.createDirectory(at: configuration.directory, withIntermediateDirectories: true)
        let database = try TrackingDatabase(path: configuration.databasePath)
        var router = RPCRouter()
        router.register(TrackingRPCService(database: database))
        router.register(
            HealthService(component: component, version: version) {
                do {
                    try await database.check()
                    return (true, ["directory": configuration.directory.path])
                } catch {
                    return (false, ["directory": configuration.directory.path, "error": "database unavailable: \(error)"])
                }
            })
        return RPCServer(address: configuration.address, router: router, configuration: configuration.rpc, logger: logger)
    }
}
