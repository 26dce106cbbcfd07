public import ArgumentParser
import MetisProcess
import MetisRPC

/// `metis-inference` (and `metis inference`): runs one inference worker.
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
        try await ServiceProcess.run(
            common: common, listen: listen, label: "metis.inference", defaultAddress: { $0.inferenceAddress(worker: worker) },
            movesLargeBuffers: false
        ) { configuration, address, logger in
            var rpc = try configuration.rpcServer()
            rpc.maximumFrameSize = configuration.inferenceFrameSize
            return try InferenceServer.build(
                configuration: InferenceConfiguration(
                    address: address, workerIndex: worker, rpc: rpc, modelCard: model ?? configuration.modelCard,
                    threads: threads ?? configuration.inferenceThreads, defaultEngine: defaultEngine ?? configuration.defaultEngine),
                version: MetisVersion.current, logger: logger)
        }
    }
}
