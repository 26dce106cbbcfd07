import MetisProto
import MetisRPC

/// The `metis.v1.Inference` methods.
struct InferenceRPCService: Metis_V1_Inference.ServiceProtocol {
    let blas: BLASRuntime

    func describeEngine(
        request: Metis_V1_DescribeEngineRequest,
        context: ServerContext
    ) async throws -> Metis_V1_EngineDescription {
        var description = Metis_V1_EngineDescription()
        // This version has no segmentation engine and so never runs a job:
        // `engines` stays empty and `jobs_in_flight` 0 until the engines land.
        description.threads = UInt32(blas.threads)
        return description
    }
}
