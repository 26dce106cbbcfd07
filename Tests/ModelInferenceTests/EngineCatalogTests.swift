import Foundation
import ModelInference
import Segmentation
import Testing

@Suite struct EngineCatalogTests {
    @Test("with a model the default engine is unetr; without, classical; unknown names are nil")
    func defaults() throws {
        let card = PipelineParityTests.directory.appendingPathComponent("axial-lps.card.json").path
        let withModel = try EngineCatalog(card: card)
        #expect(withModel.defaultEngine == "unetr")
        #expect(withModel.engine(named: "")?.name == "unetr")
        #expect(withModel.engine(named: "classical")?.name == "classical")
        #expect(withModel.engine(named: "nnunet") == nil)
        #expect(withModel.model?.card.name == "pipeline-fixture")

        let without = try EngineCatalog(card: "none")
        #expect(without.defaultEngine == "classical")
        #expect(without.engines.keys.sorted() == ["classical"])
        #expect(without.engine(named: "unetr") == nil)
    }

    @Test("a model card that is missing, or whose weights are missing, stops the worker with the path")
    func missing() throws {
        let missing = #expect(throws: ModelInferenceError.self) { try EngineCatalog(card: "/nonexistent/model.json") }
        #expect(missing?.description.contains("/nonexistent/model.json") == true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let card = directory.appendingPathComponent("model.json")
        try Data(contentsOf: PipelineParityTests.directory.appendingPathComponent("axial-lps.card.json")).write(to: card)
        let noWeights = #expect(throws: ModelInferenceError.self) { try EngineCatalog(card: card.path) }
        #expect(noWeights?.description.contains("model.safetensors") == true)
    }
}
