import Foundation
import NeuralEngine
import Segmentation
import Testing

@testable import ModelInference

/// Model cards for networks other than UNETR, several input channels and sigmoid heads.
@Suite("Model cards of any MONAI network")
struct ModelCardTests {
    static func object(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: PipelineParityTests.directory.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func load(_ object: [String: Any]) throws -> ModelCard {
        try ModelCard.load(JSONSerialization.data(withJSONObject: object))
    }

    static func refusal(_ object: [String: Any]) -> String {
        do {
            _ = try load(object)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test("a two-channel SegResNet card with sigmoid heads: its engine is named by its network, one sequence list per channel")
    func sigmoidCard() throws {
        let card = try Self.load(try Self.object("two-channel-sigmoid.card.json"))
        #expect(card.engineName == "segresnet")
        #expect(card.activation == .sigmoid)
        #expect(card.architecture.inputChannels == 2 && card.architecture.outputChannels == 3)
        #expect(card.lesion_labels == [1, 2])
        let engine = try ModelEngine.load(card: PipelineParityTests.directory.appendingPathComponent("two-channel-sigmoid.card.json"))
        #expect(engine.name == "segresnet")
        #expect(engine.channels == [[.t1c], [.flair]])
        // The architecture is written back as MONAI's call, with its name, and read again unchanged.
        let written = try JSONEncoder().encode(card.architecture)
        #expect((try JSONSerialization.jsonObject(with: written) as? [String: Any])?["name"] as? String == "SegResNet")
        #expect(try JSONDecoder().decode(type(of: card.architecture), from: written) == card.architecture)
    }

    @Test("what does not fit is refused with its reason")
    func refusals() throws {
        let good = try Self.object("two-channel-sigmoid.card.json")
        var object = good
        object["sequences"] = nil
        #expect(Self.refusal(object).contains("takes 2 channels: the card's sequences must name"))
        object = good
        object["sequences"] = [["t1c"]]
        #expect(Self.refusal(object).contains("one non-empty list per input channel (2)"))
        object = good
        object["postprocessing"] = ["threshold": 0.4]
        #expect(Self.refusal(object).contains("threshold applies to a sigmoid"))
        object = good
        object["lesion_labels"] = [3]
        #expect(Self.refusal(object).contains("must name output channels 0..<3"))
        // Softmax: channel 0 is the background and cannot be a lesion.
        object = good
        object["postprocessing"] = nil
        object["lesion_labels"] = [0]
        #expect(Self.refusal(object).contains("must name output channels 1..<3"))
        // SegResNet with three down levels halves the window twice: 24 goes, 26 does not.
        object = good
        var inference = try #require(good["inference"] as? [String: Any])
        inference["roi_size"] = [26, 24, 24]
        object["inference"] = inference
        #expect(Self.refusal(object).contains("must be multiples of 4"))
        object = good
        object["label_colors"] = ["0": [0, 300, 0]]
        #expect(Self.refusal(object).contains("label_colors \"0\""))
        object = good
        object["postprocessing"] = ["activation": "sigmoid", "keep_largest_connected_component": ["connectivity": 1]]
        #expect(Self.refusal(object).contains("keep_largest_connected_component.connectivity 1 is not supported"))
        object = good
        var architecture = try #require(good["architecture"] as? [String: Any])
        architecture["name"] = "DynUNet"
        object["architecture"] = architecture
        #expect(Self.refusal(object).contains("network \"DynUNet\" is not supported"), "\(Self.refusal(object))")
    }
}
