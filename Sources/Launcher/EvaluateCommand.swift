public import ArgumentParser
import DICOM
import Foundation
import MetisProcess
import Imaging
import ModelInference
import NeuralEngine
import Segmentation

/// `metis evaluate --engine E --cases DIR`: an engine through the segmentation
/// pipeline the inference workers run, over labelled cases (the format of
/// `Weights/training/cases.py`), scored against the cases' own truth.
public struct EvaluateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a segmentation engine on labelled cases: Dice, lesion sensitivity by size, false positives.")

    @Option(help: "Engine: classical, or the model's (unetr, segresnet, swinunetr) (default: the catalogue's default).") var engine: String?
    @Option(help: "Folder of cases (each CASE/series/*.dcm, CASE/truth.npy, CASE/case.json), or one case; repeatable.")
    var cases: [String]
    @Option(help: "UNETR model card, or none (default: the shipped one when found).") var model: String?
    @Option(help: "Write the per-case results and the summaries as JSON here.") var out: String?
    @Option(
        help:
            "Write each case's reported lesions and intracranial mask here (CASE.lesions.npy, CASE.intracranial.npy: float32 [slices, rows, columns])."
    )
    var masks: String?

    public init() {}

    public func run() async throws {
        let chosen = try OfflineEngine.load(engine: engine, model: model)
        let folders = try cases.flatMap(Self.caseFolders)
        guard !folders.isEmpty else {
            throw ValidationError("no case (a folder with truth.npy and series/) under \(cases.joined(separator: ", "))")
        }
        let pipeline = SegmentationPipeline(engine: chosen, softwareVersion: MetisVersion.current)
        var results = [(generator: String, evaluation: CaseEvaluation)]()
        for folder in folders {
            let (evaluation, generator) = try Self.evaluate(folder, pipeline: pipeline, masks: masks.map { URL(fileURLWithPath: $0) })
            results.append((generator, evaluation))
            let e = evaluation
            print(
                String(
                    format:
                        "%@: %@ dice %@, found %d/%d, %d false positive%@ (%d outside), %d rejected, intracranial mask %@ of the truth, %@ outside it, %.1f s",
                    e.name, e.contrast ?? "?",
                    e.dice.map { String(format: "%.3f", $0) } ?? "-", e.lesions.filter(\.found).count, e.lesions.count,
                    e.falsePositives.count,
                    e.falsePositives.count == 1 ? "" : "s", e.falsePositives.filter(\.outsideIntracranialVolume).count, e.rejected,
                    e.intracranialCoverage.map { String(format: "%.3f", $0) } ?? "-",
                    e.intracranialLeak.map { String(format: "%.3f", $0) } ?? "-", e.seconds))
        }
        let overall = EvaluationSummary(results.map(\.evaluation))
        let byGenerator = Dictionary(grouping: results, by: \.generator).mapValues { EvaluationSummary($0.map(\.evaluation)) }
        let byContrast = Dictionary(grouping: results, by: { $0.evaluation.contrast ?? "unknown" }).mapValues {
            EvaluationSummary($0.map(\.evaluation))
        }
        print(
            Self.table(["all": overall].merging(byGenerator.count > 1 ? byGenerator : [:]) { a, _ in a }.merging(byContrast) { a, _ in a }))
        let missed = overall.missedTargets
        print(missed.isEmpty ? "targets: all met" : "targets missed: " + missed.joined(separator: "; "))
        if let out {
            let report = Report(
                engine: chosen.name, engineVersion: chosen.version, metis: MetisVersion.current, summary: overall, byGenerator: byGenerator,
                byContrast: byContrast, missedTargets: missed, cases: results.map(\.evaluation))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(report).write(to: URL(fileURLWithPath: out), options: .atomic)
        }
    }

    struct Report: Encodable {
        var engine: String, engineVersion: String, metis: String
        var summary: EvaluationSummary
        var byGenerator: [String: EvaluationSummary], byContrast: [String: EvaluationSummary]
        var missedTargets: [String]
        var cases: [CaseEvaluation]
    }

    /// The case folders under a path: itself when it holds truth.npy, else its subfolders that do.
    static func caseFolders(_ path: String) throws -> [URL] {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("truth.npy").path) { return [url] }
        guard let entries = try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil) else {
            throw ValidationError("\(path) is not a folder")
        }
        return entries.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("truth.npy").path) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func evaluate(_ folder: URL, pipeline: SegmentationPipeline, masks: URL? = nil) throws -> (CaseEvaluation, generator: String) {
        struct Info: Decodable { var generator: String?, contrast: String? }
        let info = (try? JSONDecoder().decode(Info.self, from: Data(contentsOf: folder.appendingPathComponent("case.json"))))
        let files = try ImportCommand.files(under: [folder.appendingPathComponent("series").path]).map {
            try DICOMReader.read(contentsOf: URL(fileURLWithPath: $0))
        }
        let truth: Tensor
        do {
            truth = try NumpyArray.read(Data(contentsOf: folder.appendingPathComponent("truth.npy")))
        } catch {
            throw ValidationError("\(folder.path)/truth.npy: \(error)")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try pipeline.run(files)
        let elapsed = started.duration(to: clock.now)
        guard truth.shape == [result.slices, result.rows, result.columns] else {
            throw ValidationError("\(folder.path): truth.npy is \(truth.shape), the series \([result.slices, result.rows, result.columns])")
        }
        if let masks {
            try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
            for (name, mask) in [("lesions", result.mask), ("intracranial", result.intracranial)] {
                let tensor = Tensor(shape: [result.slices, result.rows, result.columns], values: mask.map { $0 ? 1 : 0 })
                try NumpyArray.write(tensor).write(
                    to: masks.appendingPathComponent("\(folder.lastPathComponent).\(name).npy"), options: .atomic)
            }
        }
        let volume = try VolumeBuilder.build(files)
        let evaluation = CaseEvaluation.evaluate(
            name: folder.lastPathComponent, contrast: info?.contrast, truth: truth.values.map { UInt8($0) }, predicted: result.mask,
            volume: volume,
            intracranial: result.intracranial, rejected: result.rejected.count,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return (evaluation, info?.generator ?? "unknown")
    }

    static func table(_ summaries: [String: EvaluationSummary]) -> String {
        func f(_ value: Double?, _ format: String = "%.2f") -> String { value.map { String(format: format, $0) } ?? "-" }
        func s(_ v: EvaluationSummary.Sensitivity) -> String { "\(f(v.value)) (\(v.found)/\(v.lesions))" }
        var lines = [
            "set | cases | mean Dice | sensitivity | ≥ 5 mm | < 5 mm | 5–10 | 10–20 | ≥ 20 | FP/case | max FP | largest FP mm³ | FP outside | vol. err | Ø err mm"
        ]
        for (name, x) in summaries.sorted(by: { ($0.key == "all" ? "" : $0.key) < ($1.key == "all" ? "" : $1.key) }) {
            lines.append(
                [
                    name, "\(x.cases)", f(x.meanDice, "%.3f"), s(x.sensitivity), s(x.sensitivity5mmAndMore), s(x.sensitivityUnder5mm),
                    s(x.sensitivity5to10mm), s(x.sensitivity10to20mm), s(x.sensitivity20mmAndMore), f(x.falsePositivesPerCase),
                    "\(x.maximumFalsePositivesInACase)", f(x.largestFalsePositiveMm3, "%.0f"),
                    "\(x.falsePositivesOutsideIntracranialVolume)",
                    f(x.meanRelativeVolumeError), f(x.meanLongestDiameterErrorMm, "%.1f"),
                ].joined(separator: " | "))
        }
        return lines.joined(separator: "\n")
    }
}
