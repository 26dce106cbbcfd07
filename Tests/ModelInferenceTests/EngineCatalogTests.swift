import Foundation
@testable import ModelInference
import Segmentation
import Testing

@Suite struct EngineCatalogTests {
    @Test("a model whose card records no evaluation is not the default; the site's default_engine is; unknown names are nil")
    func defaults() throws {
        let card = PipelineParityTests.directory.appendingPathComponent("axial-lps.card.json").path
        let withModel = try EngineCatalog(card: card)
        #expect(withModel.defaultEngine == "classical")
        #expect(withModel.defaultChoice.reason.contains("no evaluation"))
        #expect(withModel.engine(named: "")?.name == "classical")
        #expect(withModel.engine(named: "unetr")?.name == "unetr")
        let chosen = try EngineCatalog(card: card, defaultEngine: "unetr")
        #expect(chosen.engine(named: "")?.name == "unetr")
        #expect(chosen.defaultChoice.reason.contains("set by the site"))
        #expect(throws: ModelInferenceError.self) { try EngineCatalog(card: "none", defaultEngine: "unetr") }
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

@Suite struct SmallObjectRemovalTests {
    @Test("lesion components under min_size voxels become background; corner-touching voxels are one component")
    func removal() {
        let shape = SIMD3(6, 6, 6)
        var labels = [Float](repeating: 0, count: 216)
        func set(_ x: Int, _ y: Int, _ z: Int) { labels[(z * 6 + y) * 6 + x] = 1 }
        set(0, 0, 0)  // a lone voxel
        set(5, 5, 5); set(4, 4, 4)  // two voxels touching by a corner: one component of 2
        for x in 2..<5 { for y in 0..<2 { set(x, y, 0) } }  // 6 voxels
        labels[(3 * 6 + 0) * 6 + 5] = 2  // another channel, not a lesion label here
        var kept = labels
        ModelEngine.removeSmallObjects(&kept, shape: shape, minimumSize: 2, lesionLabels: [1])
        #expect(kept.filter { $0 == 1 }.count == 8)
        #expect(kept[0] == 0)
        #expect(kept[(3 * 6 + 0) * 6 + 5] == 2)
        ModelEngine.removeSmallObjects(&kept, shape: shape, minimumSize: 3, lesionLabels: [1])
        #expect(kept.filter { $0 == 1 }.count == 6)
    }
}
