import ArgumentParser
import InferenceService
import MetisProcess
import ModelInference
import Segmentation

/// The engine an offline tool (`metis segment`, `metis evaluate`) runs: its
/// `--engine` (the catalogue's default when absent) with its `--model`
/// (the shipped one when absent; none is loaded for `--engine classical`).
enum OfflineEngine {
    static func load(engine: String?, model: String?) throws -> any SegmentationEngine {
        BLASCoreReexec.ensureCoreType()
        let catalog: EngineCatalog
        do {
            catalog = try EngineCatalog(card: model ?? (engine == "classical" ? "none" : nil))
        } catch {
            throw ValidationError(error.description)
        }
        ProcessRunner.keepLargeBuffersForReuse()
        guard let chosen = catalog.engine(named: engine ?? "") else {
            throw ValidationError("unknown engine '\(engine ?? "")'; available: \(catalog.engines.keys.sorted().joined(separator: ", "))")
        }
        return chosen
    }
}
