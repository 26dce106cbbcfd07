import Foundation
public import Segmentation

/// Which engine a request naming none gets, and why: chosen by evidence.
/// The model's engine (`unetr`, `segresnet`, `swinunetr`) only when its card's evaluation (`metis evaluate`, per
/// generator) meets every target (`EvaluationSummary.missedTargets`) on
/// every generator, beats the classical engine's mean Dice on the generator
/// kept out of training, and is nowhere more than 0.05 Dice below it;
/// otherwise `classical`. A site's `default_engine` setting overrides it.
public struct DefaultEngine: Sendable, Equatable {
    public var engine: String
    /// In words, for `/healthz`, the viewer and the logs.
    public var reason: String

    public init(engine: String, reason: String) {
        self.engine = engine
        self.reason = reason
    }

    /// Dice by which the model may trail the classical engine on a generator other than the held-out one.
    public static let diceTolerance = 0.05

    /// The choice for a loaded model's card (nil: no model), unless `override` names an engine.
    public static func choose(card: ModelCard?, override: String? = nil) -> DefaultEngine {
        if let override, !override.isEmpty {
            return DefaultEngine(engine: override, reason: "set by the site (default_engine = \(override))")
        }
        guard let card else { return DefaultEngine(engine: "classical", reason: "no model is installed") }
        let model = "model \(card.name ?? "unnamed") \(card.version ?? "")".trimmingCharacters(in: .whitespaces)
        guard let evaluation = card.evaluation, !evaluation.generators.isEmpty else {
            let why = card.evaluationError.map { " in the form `metis evaluate` writes (\($0))" } ?? ""
            return DefaultEngine(engine: "classical", reason: "the \(model) card records no evaluation by `metis evaluate`\(why)")
        }
        guard let heldOut = evaluation.generators[evaluation.heldOutGenerator] else {
            return DefaultEngine(
                engine: "classical", reason: "the \(model) card has no figures on its held-out generator \(evaluation.heldOutGenerator)")
        }
        let name = card.engineName
        for (generator, engines) in evaluation.generators.sorted(by: { $0.key < $1.key }) {
            guard let unetr = engines[name], let classical = engines["classical"] else {
                return DefaultEngine(
                    engine: "classical", reason: "the \(model) card lacks the \(name) or the classical figures on \(generator)")
            }
            let missed = unetr.missedTargets
            if !missed.isEmpty {
                return DefaultEngine(
                    engine: "classical", reason: "the \(model) misses its targets on \(generator): \(missed.joined(separator: "; "))")
            }
            if let a = unetr.meanDice, let b = classical.meanDice, a < b - diceTolerance {
                return DefaultEngine(
                    engine: "classical",
                    reason: String(format: "the %@ is %.3f Dice below the classical engine on %@", model, b - a, generator))
            }
        }
        let unetr = heldOut[name]!, classical = heldOut["classical"]!
        guard let a = unetr.meanDice, let b = classical.meanDice, a > b else {
            return DefaultEngine(
                engine: "classical",
                reason: "the \(model) does not beat the classical engine's Dice on the held-out generator \(evaluation.heldOutGenerator)")
        }
        return DefaultEngine(
            engine: name,
            reason: String(
                format:
                    "the %@ meets every target on %d generators and beats the classical engine on the held-out %@ (Dice %.3f against %.3f)",
                model, evaluation.generators.count, evaluation.heldOutGenerator, a, b))
    }
}
