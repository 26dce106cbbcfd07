public import ArgumentParser
import MetisProcess

/// `metis-tracking` (and `metis tracking`): runs the follow-up service.
public struct TrackingCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tracking", abstract: "Run metis-tracking: the lesion follow-up database.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Listen address: a socket path or tcp://host:port (default <data>/run/tracking.sock).")
    var listen: String?

    public init() {}

    public func run() async throws {
        try await ServiceProcess.run(common: common, listen: listen, label: "metis.tracking", defaultAddress: \.trackingAddress) {
            configuration, address, logger in
            try TrackingServer.build(
                configuration: TrackingConfiguration(
                    directory: configuration.trackingDirectory, address: address, rpc: try configuration.rpcServer()),
                version: MetisVersion.current, logger: logger)
        }
    }
}
