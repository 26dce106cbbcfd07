import Foundation
import Logging
import MetisProto
import MetisRPC
import Testing

@testable import InferenceService

@Suite("metis-inference")
struct InferenceServerTests {
    @Test("reports the OpenBLAS kernels it loaded and its threads")
    func describe() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-inference-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let address = RPCAddress.unix(path: directory.appendingPathComponent("inference-3.sock").path)
        let server = try InferenceServer.build(
            configuration: InferenceConfiguration(address: address, workerIndex: 3),
            version: "test", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        let connection = RPCConnection(address: address)
        let health = try await Metis_V1_Health.Client(connection).check()
        #expect(health.component == "metis-inference")
        #expect(health.details["worker"] == "3")
        let core = try #require(health.details["blas_core"])
        #expect(!core.isEmpty && core != "unknown")
        let engine = try await Metis_V1_Inference.Client(connection).describeEngine()
        #expect(engine.threads >= 1)
        #expect(engine.engines == ["classical"])
        #expect(engine.jobsInFlight == 0)
        await connection.close()
        server.shutdown()
        try await task.value
    }
}
