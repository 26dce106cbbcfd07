import CBLAS
public import Logging
public import MetisRPC
import ModelInference

/// Builds one metis-inference worker: reports its BLAS kernels and returns the
/// RPC server (a lifecycle `Service`).
public enum InferenceServer {
    public static let component = "metis-inference"

    public static func build(configuration: InferenceConfiguration, version: String, logger: Logger) throws -> RPCServer {
        if let threads = configuration.threads { openblas_set_num_threads(Int32(threads)) }
        let blas = BLASRuntime.current()
        let selfCheckError = try BLASSelfCheck.run()
        logger.info(
            "OpenBLAS loaded and checked",
            metadata: [
                "blas.core": "\(blas.coreName)", "blas.threads": "\(blas.threads)", "inference.worker": "\(configuration.workerIndex)",
                "blas.self_check_error": "\(selfCheckError)",
            ]
        )
        let catalog = try EngineCatalog(card: configuration.modelCard, defaultEngine: configuration.defaultEngine)
        if let model = catalog.model {
            logger.info(
                "model loaded",
                metadata: [
                    "model.name": "\(model.card.name ?? "")", "model.version": "\(model.version)",
                    "engine.default": "\(catalog.defaultEngine)",
                    "engine.default_reason": "\(catalog.defaultChoice.reason)",
                ])
        } else {
            logger.info("no model: the classical engine only", metadata: ["engine.default": "\(catalog.defaultEngine)"])
        }
        var router = RPCRouter()
        router.register(InferenceRPCService(blas: blas, catalog: catalog, softwareVersion: version))
        router.register(
            HealthService(component: component, version: version) {
                (
                    true,
                    [
                        "worker": "\(configuration.workerIndex)",
                        "blas_core": blas.coreName,
                        "blas_threads": "\(blas.threads)",
                        "default_engine": catalog.defaultEngine,
                        "default_engine_reason": catalog.defaultChoice.reason,
                        "model": catalog.model.map { "\($0.card.name ?? "") \($0.version)" } ?? "none",
                        "engines": catalog.engines.keys.sorted().joined(separator: ", "),
                        // One entry per input channel, e.g. "t1c; flair".
                        "model_sequences": catalog.model.map {
                            $0.channels.map { $0.map(\.rawValue).joined(separator: " or ") }.joined(separator: "; ")
                        } ?? "",
                    ]
                )
            })
        var rpc = configuration.rpc
        // Segmentation computes for seconds: keep it off the connection's event loop.
        rpc.runsHandlersOnEventLoop = false
        return RPCServer(address: configuration.address, router: router, configuration: rpc, logger: logger)
    }
}
