import Foundation
public import Segmentation

/// The engines one process runs: always the classical one, and the model's
/// (named by its network: "unetr", "segresnet") when a model card with its weights is found. A request naming no engine gets the
/// default chosen by evidence (`DefaultEngine`), or the site's `default_engine`.
public struct EngineCatalog: Sendable {
    public let engines: [String: any SegmentationEngine]
    public var defaultEngine: String { defaultChoice.engine }
    /// The default and why.
    public let defaultChoice: DefaultEngine
    /// The loaded model, if any.
    public let model: ModelEngine?

    /// The shipped model card, relative to a Metis checkout or installation.
    public static let shippedCard = "Weights/metis-synthetic-unetr.json"

    /// `card`: a model card to load (an error if it cannot be), "none" for no
    /// model, or nil to look for the shipped one (in the working directory,
    /// then above the executable, as in a checkout's `.build/release/metis`,
    /// then in `../share/metis` next to an installed one). `defaultEngine`:
    /// the site's choice, which must name an engine of the catalogue.
    public init(card: String?, defaultEngine override: String? = nil) throws(ModelInferenceError) {
        if let path = card ?? Self.findShippedCard(), path != "none" {
            let engine = try ModelEngine.load(card: URL(fileURLWithPath: path))
            model = engine
            engines = ["classical": ClassicalEngine(), engine.name: engine]
        } else {
            model = nil
            engines = ["classical": ClassicalEngine()]
        }
        if let override, !override.isEmpty, engines[override] == nil {
            throw ModelInferenceError(
                "default_engine '\(override)' is not an engine this worker runs (\(engines.keys.sorted().joined(separator: ", ")))")
        }
        defaultChoice = DefaultEngine.choose(card: model?.card, override: override)
    }

    /// The engine a request names, or the default for an empty name.
    public func engine(named name: String) -> (any SegmentationEngine)? {
        engines[name.isEmpty ? defaultEngine : name]
    }

    static func findShippedCard() -> String? { findInstalled(shippedCard) }

    /// A file of the Metis checkout or installation, by its path relative to
    /// it: in the working directory, then above the executable (a checkout's
    /// `.build/release/metis`), then in `../share/metis` next to an installed one.
    public static func findInstalled(_ relative: String) -> String? {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative)]
        let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: "/proc/self/exe")).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        var directory = executable
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent(relative))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("share/metis").appendingPathComponent(relative))
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }?.path
    }
}
