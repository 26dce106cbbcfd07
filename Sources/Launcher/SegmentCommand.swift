public import ArgumentParser
import Foundation
import MetisProcess
import Imaging
import NeuralEngine
import Segmentation
import SegmentationWorkflow

/// `metis segment DIR --out FILE`: the segmentation workflow offline, on a
/// folder of DICOM files, with the pipeline in this process and no service running.
public struct SegmentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Find brain lesions in a folder of DICOM files and write an RT Structure Set (no service needed).")

    @Argument(help: "Folders and files holding the series; folders are walked recursively.") var paths: [String]
    @Option(help: "Where to write the RT Structure Set (nothing is written when no lesion is found).") var out: String
    @Option(help: "StudyInstanceUID to segment when the files hold several studies.") var study: String?
    @Option(help: "SeriesInstanceUID to segment when the files hold several series.") var series: String?
    @Option(help: "Engine: classical, or the model's (unetr, segresnet, swinunetr) (default: the catalogue's default).") var engine: String?
    @Option(help: "Model card (UNETR, SegResNet, SwinUNETR), or none (default: the shipped Weights/metis-synthetic-unetr.json when found).")
    var model: String?
    @Option(help: "Output: rtstruct (RT Structure Set) or seg (DICOM Segmentation).") var format = "rtstruct"
    @Option(help: "Also write the engine's voxel mask as .npy (float32 [slices, rows, columns], slices along the normal).")
    var mask: String?
    @Flag(help: "Print the result as JSON (the report of POST /segmentation) instead of a table.") var json = false

    public init() {}

    public func run() async throws {
        guard let outputFormat = SegmentationPipeline.OutputFormat(rawValue: format.lowercased()) else {
            throw ValidationError("format '\(format)' is not rtstruct or seg")
        }
        let chosenEngine = try OfflineEngine.load(engine: engine, model: model)
        let source = FileSeriesSource(files: try ImportCommand.files(under: paths).map { URL(fileURLWithPath: $0) })
        guard !source.studies.isEmpty else { throw ValidationError("no DICOM image series under \(paths.joined(separator: ", "))") }
        let chosenStudy = try pickStudy(source)
        var runner = PipelineRunner(engine: chosenEngine, softwareVersion: MetisVersion.current)
        let recorded = RecordedMask()
        if mask != nil { runner.inspect = { recorded.keep($0) } }
        let workflow = SegmentationWorkflow(
            source: source, runner: runner, results: FileResultStore(url: URL(fileURLWithPath: out)), recorder: nil,
            maximumSeriesSize: .max)
        let report: SegmentationReport
        do {
            report = try await workflow.run(.init(study: chosenStudy, series: series, format: outputFormat))
        } catch let error as SegmentationWorkflowError {
            if case .noSeriesToSegment = error { throw ValidationError("\(error); name one with --series") }
            throw ValidationError(error.description)
        }
        if let mask, let result = recorded.result {
            let tensor = Tensor(shape: [result.slices, result.rows, result.columns], values: result.mask.map { $0 ? 1 : 0 })
            try NumpyArray.write(tensor).write(to: URL(fileURLWithPath: mask), options: .atomic)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        if source.skipped > 0 { print("skipped \(source.skipped) files that are not DICOM images") }
        if report.channels.count > 1 {
            for channel in report.channels { print("series \(channel.seriesInstanceUID): \(channel.choice)") }
        } else {
            print("series \(report.seriesInstanceUID): \(report.seriesChoice)")
        }
        print("\(report.lesions.count) lesion\(report.lesions.count == 1 ? "" : "s") (engine \(report.engine) \(report.engineVersion))")
        for lesion in report.lesions {
            let m = lesion.measurement
            print(
                String(
                    format: "%@: %.1f mm³, longest %.1f mm, axial %.1f × %.1f mm, slices %d–%d, centre (%.1f, %.1f, %.1f) mm",
                    lesion.name, m.volume, m.longestDiameter, m.longestAxialDiameter, m.perpendicularDiameter, m.firstSlice + 1,
                    m.lastSlice + 1,
                    m.centroid.x, m.centroid.y, m.centroid.z))
        }
        if !report.labels.isEmpty { print("the model's other labels, written after the lesions: \(report.labels.joined(separator: ", "))") }
        if !report.rejected.isEmpty { print("\(report.rejected.count) component(s) dropped as no plausible lesion") }
        print(
            report.output == nil
                ? "no lesion: nothing written"
                : "wrote \(out) (\(report.output?.format == "seg" ? "DICOM Segmentation" : "RT Structure Set"))")
    }

    /// `--study`, the study of `--series`, or the only study the files hold.
    private func pickStudy(_ source: FileSeriesSource) throws -> String {
        if let study {
            guard source.studies.contains(study) else {
                throw ValidationError("no study \(study) here; studies found: \(source.studies.joined(separator: ", "))")
            }
            return study
        }
        if let series {
            guard let study = source.study(ofSeries: series) else {
                let all = source.studies.flatMap { source.seriesUIDs(study: $0) }
                throw ValidationError("no series \(series) here; series found: \(all.joined(separator: ", "))")
            }
            return study
        }
        guard source.studies.count == 1 else {
            throw ValidationError(
                "the files hold \(source.studies.count) studies (\(source.studies.joined(separator: ", "))); name one with --study")
        }
        return source.studies[0]
    }
}

/// The pipeline's last result, for `--mask`.
private final class RecordedMask: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: SegmentationPipeline.Result?

    func keep(_ result: SegmentationPipeline.Result) {
        lock.withLock { kept = result }
    }

    var result: SegmentationPipeline.Result? { lock.withLock { kept } }
}
