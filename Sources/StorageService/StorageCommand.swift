public import ArgumentParser
import MetisProcess

/// `metis-storage` (and `metis storage`): runs the storage service.
public struct StorageCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Run metis-storage: DICOM blobs and their index.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Listen address: a socket path or tcp://host:port (default <data>/run/storage.sock).")
    var listen: String?

    public init() {}

    public func run() async throws {
        try await ServiceProcess.run(common: common, listen: listen, label: "metis.storage", defaultAddress: \.storageAddress) {
            configuration, address, logger in
            try await StorageServer.build(
                configuration: StorageConfiguration(
                    directory: configuration.storageDirectory, address: address, rpc: try configuration.rpcServer(),
                    conflictPolicy: configuration.overwritesInstances ? .overwrite : .refuse,
                    strictValidation: configuration.strictDICOMValidation),
                version: MetisVersion.current, logger: logger)
        }
    }
}
