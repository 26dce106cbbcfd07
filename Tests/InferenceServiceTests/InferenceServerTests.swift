import Foundation
import Logging
import MetisProto
import MetisRPC
import Testing

@testable import InferenceService

@Suite("metis-inference")
struct InferenceServerTests {
    /// The shipped model card, found from this file's place in the checkout.
    static let shippedCard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Weights/metis-synthetic-unetr.json").path

    @Test("reports the OpenBLAS kernels it loaded, its threads and its engines", arguments: [nil, "none"] as [String?])
    func describe(model: String?) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-inference-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let address = RPCAddress.unix(path: directory.appendingPathComponent("inference-3.sock").path)
        let server = try InferenceServer.build(
            configuration: InferenceConfiguration(address: address, workerIndex: 3, modelCard: model ?? Self.shippedCard, threads: 1),
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
        #expect(engine.threads == 1)
        if model == "none" {
            #expect(engine.engines == ["classical"])
            #expect(engine.defaultEngine == "classical")
            #expect(engine.modelName.isEmpty)
            #expect(health.details["model"] == "none")
        } else {
            #expect(engine.engines == ["classical", "unetr"])
            // The shipped model misses its targets on the held-out generator (its card's evaluation): not the default.
            #expect(engine.defaultEngine == "classical")
            #expect(engine.defaultEngineReason.contains("misses its targets"), "\(engine.defaultEngineReason)")
            #expect(engine.modelSequences == ["t1c", "flair"])
            #expect(engine.modelName == "metis-synthetic-unetr")
        }
        #expect(engine.jobsInFlight == 0)
        await connection.close()
        server.shutdown()
        try await task.value
    }
}
