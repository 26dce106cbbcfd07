import Foundation
@testable import ModelInference
@testable import Segmentation
import Testing

@Suite("The default engine, chosen by evidence")
struct DefaultEngineTests {
    /// A summary from per-case results: `cases` cases, each with one truth lesion of `diameter` mm found or not, `falsePositives` each.
    static func summary(cases: Int = 10, found: Int, falsePositives: Int = 0, dice: Double) -> EvaluationSummary {
        EvaluationSummary(
            (0..<cases).map { index in
                let voxels = 1000, hit = Int((Double(voxels) * dice).rounded())  // predicted = truth = voxels: Dice = overlap ÷ voxels
                return CaseEvaluation(
                    name: "case-\(index)", contrast: "t1c",
                    lesions: [
                        .init(number: 1, diameterMm: 12, volumeMm3: 900, found: index < found, matchedVolumeMm3: 900, matchedDiameterMm: 12)
                    ],
                    falsePositives: (0..<falsePositives).map { _ in
                        .init(volumeMm3: 50, outsideIntracranialVolume: false, centroidMm: [0, 0, 0])
                    },
                    truthVoxels: voxels, predictedVoxels: voxels, intersectionVoxels: index < found ? hit : 0, rejected: 0,
                    intracranialCoverage: nil,
                    intracranialLeak: nil, seconds: 1)
            })
    }

    static func card(_ generators: [String: [String: EvaluationSummary]], heldOut: String = "mni") throws -> ModelCard {
        var card = try ModelCard.load(Data(contentsOf: PipelineParityTests.directory.appendingPathComponent("axial-lps.card.json")))
        card.evaluation = .init(heldOutGenerator: heldOut, generators: generators)
        return card
    }

    @Test("unetr when it meets every target everywhere and beats classical on the held-out generator")
    func meets() throws {
        let good = Self.summary(found: 10, dice: 0.85), classical = Self.summary(found: 8, dice: 0.6)
        let choice = DefaultEngine.choose(
            card: try Self.card(["mni": ["unetr": good, "classical": classical], "synthetic": ["unetr": good, "classical": classical]]))
        #expect(choice.engine == "unetr")
        #expect(choice.reason.contains("held-out mni"))
    }

    @Test(
        "classical when a target is missed, the held-out figure does not beat classical, or figures are missing",
        arguments: [
            ("sensitivity", ["mni": ["unetr": summary(found: 8, dice: 0.85), "classical": summary(found: 8, dice: 0.6)]]),
            (
                "false positives",
                ["mni": ["unetr": summary(found: 10, falsePositives: 2, dice: 0.85), "classical": summary(found: 8, dice: 0.6)]]
            ),
            ("Dice", ["mni": ["unetr": summary(found: 10, dice: 0.7), "classical": summary(found: 8, dice: 0.6)]]),
            ("classical engine", ["mni": ["unetr": summary(found: 10, dice: 0.82), "classical": summary(found: 10, dice: 0.9)]]),
            ("held-out", ["synthetic": ["unetr": summary(found: 10, dice: 0.9), "classical": summary(found: 8, dice: 0.6)]]),
            ("lacks", ["mni": ["unetr": summary(found: 10, dice: 0.9)]]),
        ])
    func misses(word: String, generators: [String: [String: EvaluationSummary]]) throws {
        let choice = DefaultEngine.choose(card: try Self.card(generators))
        #expect(choice.engine == "classical")
        #expect(choice.reason.contains(word), "\(choice.reason)")
    }

    @Test("the card's evaluation is read as metis evaluate writes it")
    func readsTheCard() throws {
        var object =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: PipelineParityTests.directory.appendingPathComponent("axial-lps.card.json"))) as! [String: Any]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let summary = try JSONSerialization.jsonObject(with: encoder.encode(Self.summary(found: 10, dice: 0.85)))
        let classical = try JSONSerialization.jsonObject(with: encoder.encode(Self.summary(found: 5, dice: 0.5)))
        object["evaluation"] = ["held_out_generator": "mni", "generators": ["mni": ["unetr": summary, "classical": classical]]]
        let card = try ModelCard.load(JSONSerialization.data(withJSONObject: object))
        #expect(card.evaluation?.heldOutGenerator == "mni", "\(card.evaluationError ?? "")")
        #expect(DefaultEngine.choose(card: card).engine == "unetr")
        #expect(DefaultEngine.choose(card: card, override: "classical").engine == "classical")
        #expect(DefaultEngine.choose(card: nil).reason == "no model is installed")
    }
}
