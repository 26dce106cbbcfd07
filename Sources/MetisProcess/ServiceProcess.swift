public import Foundation
public import Logging
public import MetisRPC

/// How a service process starts: its configuration, logging and socket
/// directory, then its RPC server until SIGTERM or SIGINT.
public enum ServiceProcess {
    /// Runs the server `build` makes on `listen` (or the configuration's address for the service).
    /// `movesLargeBuffers`: large allocations go back to the system (storage, tracking); false keeps them for reuse (inference).
    public static func run(
        common: CommonOptions,
        listen: String?,
        label: String,
        defaultAddress: (MetisConfiguration) -> RPCAddress,
        movesLargeBuffers: Bool = true,
        build: (MetisConfiguration, RPCAddress, Logger) async throws -> RPCServer
    ) async throws {
        let configuration = try common.configuration()
        ProcessRunner.bootstrapLogging(level: configuration.logLevel)
        if movesLargeBuffers { ProcessRunner.returnLargeBuffersToTheSystem() }
        let address = try listen.map { try RPCAddress(parsing: $0) } ?? defaultAddress(configuration)
        try prepareRunDirectory(for: address)
        let logger = Logger(label: label)
        let server = try await build(configuration, address, logger)
        // Set after the model is loaded: its temporary read buffers go back to the system rather than stay in the heap.
        if !movesLargeBuffers { ProcessRunner.keepLargeBuffersForReuse() }
        try await ProcessRunner.run([server], logger: logger)
    }

    /// Creates the socket directory (mode 0750) for a Unix address.
    public static func prepareRunDirectory(for address: RPCAddress) throws {
        guard case .unix(let path) = address else { return }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
    }
}
