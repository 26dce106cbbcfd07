public import ArgumentParser
import Foundation
import Gateway
import InferenceService
import Logging
import MetisRPC
import StorageService
import TrackingService

/// `metis storage`: runs metis-storage.
public struct StorageCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Run metis-storage: DICOM blobs and their index.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Listen address: a socket path or tcp://host:port (default <data>/run/storage.sock).")
    var listen: String?

    public init() {}

    public func run() async throws {
        try await runServer(common: common, listen: listen, label: "metis.storage", defaultAddress: \.storageAddress) {
            configuration, address, logger in
            try await StorageServer.build(
                configuration: StorageConfiguration(directory: configuration.storageDirectory, address: address, rpc: try configuration.rpcServer()),
                version: MetisVersion.current, logger: logger)
        }
    }
}

/// `metis tracking`: runs metis-tracking.
public struct TrackingCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tracking", abstract: "Run metis-tracking: the lesion follow-up database.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Listen address: a socket path or tcp://host:port (default <data>/run/tracking.sock).")
    var listen: String?

    public init() {}

    public func run() async throws {
        try await runServer(common: common, listen: listen, label: "metis.tracking", defaultAddress: \.trackingAddress) {
            configuration, address, logger in
            try TrackingServer.build(
                configuration: TrackingConfiguration(directory: configuration.trackingDirectory, address: address, rpc: try configuration.rpcServer()),
                version: MetisVersion.current, logger: logger)
        }
    }
}

/// `metis inference`: runs one metis-inference worker.
public struct InferenceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "inference", abstract: "Run one metis-inference worker.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Worker index; its default socket is <data>/run/inference-<worker>.sock.")
    var worker = 0
    @Option(help: "Listen address: a socket path or tcp://host:port.")
    var listen: String?
    @Option(help: "UNETR model card to load, or none (default: the shipped Weights/metis-synthetic-unetr.json when found).")
    var model: String?
    @Option(help: "OpenBLAS threads (default: all cores).") var threads: Int?
    @Option(help: "Engine for requests that name none: unetr or classical (default: chosen by the model card's evaluation).")
    var defaultEngine: String?

    public init() {}

    public func run() async throws {
        BLASCoreReexec.ensureCoreType()
        let worker = worker, model = model, threads = threads, defaultEngine = defaultEngine
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1...256, got \(threads)") }
        try await runServer(common: common, listen: listen, label: "metis.inference", defaultAddress: \.[inferenceWorker: worker],
                                movesLargeBuffers: false) {
            configuration, address, logger in
            try InferenceServer.build(
                configuration: InferenceConfiguration(address: address, workerIndex: worker, rpc: {
                    // A segmentation request carries a whole series.
                    var rpc = try configuration.rpcServer()
                    rpc.maximumFrameSize = configuration.inferenceFrameSize
                    return rpc
                }(), modelCard: model ?? configuration.modelCard, threads: threads ?? configuration.inferenceThreads,
                defaultEngine: defaultEngine ?? configuration.defaultEngine),
                version: MetisVersion.current, logger: logger)
        }
    }
}

/// Runs one service process: configuration, logging, its socket directory, its server.
private func runServer(
    common: CommonOptions,
    listen: String?,
    label: String,
    defaultAddress: KeyPath<MetisConfiguration, RPCAddress>,
    movesLargeBuffers: Bool = true,
    build: (MetisConfiguration, RPCAddress, Logger) async throws -> RPCServer
) async throws {
    let configuration = try common.configuration()
    ProcessRunner.bootstrapLogging(level: configuration.logLevel)
    if movesLargeBuffers { ProcessRunner.returnLargeBuffersToTheSystem() }
    let address = try listen.map { try RPCAddress(parsing: $0) } ?? configuration[keyPath: defaultAddress]
    try prepareRunDirectory(for: address)
    let logger = Logger(label: label)
    let server = try await build(configuration, address, logger)
    // Set after the model is loaded: its temporary read buffers go back to the system rather than stay in the heap.
    if !movesLargeBuffers { ProcessRunner.keepLargeBuffersForReuse() }
    try await ProcessRunner.run([server], logger: logger)
}

extension MetisConfiguration {
    subscript(inferenceWorker worker: Int) -> RPCAddress { inferenceAddress(worker: worker) }
}

/// `metis gateway`: runs metis-gateway.
public struct GatewayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Run metis-gateway: the HTTP API, DICOMweb and the web UI.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "metis-storage address (default <data>/run/storage.sock).") var storage: String?
    @Option(help: "metis-tracking address (default <data>/run/tracking.sock).") var tracking: String?
    @Option(help: "A metis-inference worker address; repeat for several (default one per --inference-workers).")
    var inference: [String] = []

    public init() {}

    public func run() async throws {
        let configuration = try common.configuration(gateway.apply)
        ProcessRunner.bootstrapLogging(level: configuration.logLevel)
        ProcessRunner.returnLargeBuffersToTheSystem()
        let application = try Gateway.build(
            configuration: GatewayConfiguration(
                host: configuration.host,
                port: configuration.port,
                storage: try storage.map { try RPCAddress(parsing: $0) } ?? configuration.storageAddress,
                tracking: try tracking.map { try RPCAddress(parsing: $0) } ?? configuration.trackingAddress,
                inference: inference.isEmpty ? configuration.inferenceAddresses : try inference.map { try RPCAddress(parsing: $0) },
                maximumUploadSize: configuration.maximumUploadSize,
                maximumSeriesSize: configuration.maximumSeriesSize,
                sequenceNames: configuration.sequenceNames,
                version: MetisVersion.current,
                followUpOutbox: configuration.dataDirectory.appendingPathComponent("gateway/follow-up-outbox", isDirectory: true),
                tokens: configuration.authentication == .tokens ? TokenStore(file: configuration.tokenFile) : nil,
                audit: try AuditLog(file: configuration.dataDirectory.appendingPathComponent("gateway/audit.jsonl")),
                tls: configuration.tls,
                rpcTransportSecurity: try configuration.rpcTransportSecurity()),
            logger: Logger(label: "metis.gateway"))
        try await ProcessRunner.run([application], logger: Logger(label: "metis.gateway"))
    }
}

/// Creates the socket directory (mode 0750) for a Unix address.
func prepareRunDirectory(for address: RPCAddress) throws {
    guard case .unix(let path) = address else { return }
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
}
