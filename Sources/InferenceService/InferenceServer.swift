public import Logging
public import MetisRPC

/// Builds one metis-inference worker: reports its BLAS kernels and returns the
/// RPC server (a lifecycle `Service`).
public enum InferenceServer {
    public static let component = "metis-inference"

    public static func build(configuration: InferenceConfiguration, version: String, logger: Logger) throws -> RPCServer {
        let blas = BLASRuntime.current()
        let selfCheckError = try BLASSelfCheck.run()
        logger.info(
            "OpenBLAS loaded and checked",
            metadata: [
                "blas.core": "\(blas.coreName)", "blas.threads": "\(blas.threads)", "inference.worker": "\(configuration.workerIndex)",
                "blas.self_check_error": "\(selfCheckError)",
            ]
        )
        var router = RPCRouter()
        router.register(InferenceRPCService(blas: blas, softwareVersion: version))
        router.register(
            HealthService(component: component, version: version) {
                (true, [
                    "worker": "\(configuration.workerIndex)",
                    "blas_core": blas.coreName,
                    "blas_threads": "\(blas.threads)",
                ])
            })
        var rpc = configuration.rpc
        // Segmentation computes for seconds: keep it off the connection's event loop.
        rpc.runsHandlersOnEventLoop = false
        return RPCServer(address: configuration.address, router: router, configuration: rpc, logger: logger)
    }
}
