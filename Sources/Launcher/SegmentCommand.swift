public import ArgumentParser
import DICOM
import Foundation
import Imaging
import ModelInference
import NeuralEngine
import Segmentation

/// `metis segment DIR --out FILE`: the segmentation pipeline offline, on a
/// folder of DICOM files, with no service running.
public struct SegmentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Find brain lesions in a folder of DICOM files and write an RT Structure Set (no service needed).")

    @Argument(help: "Folders and files holding the series; folders are walked recursively.") var paths: [String]
    @Option(help: "Where to write the RT Structure Set (nothing is written when no lesion is found).") var out: String
    @Option(help: "SeriesInstanceUID to segment when the files hold several series.") var series: String?
    @Option(help: "Engine: unetr or classical (default: unetr when a model is found, else classical).") var engine: String?
    @Option(help: "UNETR model card, or none (default: the shipped Weights/metis-synthetic-unetr.json when found).") var model: String?
    @Option(help: "Output: rtstruct (RT Structure Set) or seg (DICOM Segmentation).") var format = "rtstruct"
    @Option(help: "Also write the engine's voxel mask as .npy (float32 [slices, rows, columns], slices along the normal).")
    var mask: String?
    @Flag(help: "Print the result as JSON instead of a table.") var json = false

    public init() {}

    public func run() async throws {
        let chosenEngine = try OfflineEngine.load(engine: engine, model: model)
        var bySeries = [String: [DICOMFile]]()
        var skipped = 0
        for path in try ImportCommand.files(under: paths) {
            guard let file = try? DICOMReader.read(contentsOf: URL(fileURLWithPath: path)),
                let uid = file.dataset.string(.seriesInstanceUID)
            else {
                skipped += 1
                continue
            }
            bySeries[uid, default: []].append(file)
        }
        guard !bySeries.isEmpty else { throw ValidationError("no DICOM image series under \(paths.joined(separator: ", "))") }
        let picked: String
        if let series {
            guard bySeries[series] != nil else {
                throw ValidationError("no series \(series) here; series found: \(bySeries.keys.sorted().joined(separator: ", "))")
            }
            picked = series
        } else {
            let candidates = bySeries.map { uid, files in
                SeriesChoice.Candidate(seriesInstanceUID: uid, instances: files.count) { files[0].dataset.strings($0) ?? [] }
            }
            let choice: SeriesChoice
            switch SeriesChoice.pick(candidates, accepted: chosenEngine.sequences) {
            case .success(let found): choice = found
            case .failure(let none): throw ValidationError("no series to segment here: \(none); name one with --series")
            }
            picked = choice.seriesInstanceUID
            if !json { print("series \(picked): \(choice.reason)") }
        }
        guard let outputFormat = SegmentationPipeline.OutputFormat(rawValue: format.lowercased()) else {
            throw ValidationError("format '\(format)' is not rtstruct or seg")
        }
        let result = try SegmentationPipeline(engine: chosenEngine, softwareVersion: MetisVersion.current).run(bySeries[picked]!, format: outputFormat)
        if let output = result.output {
            try output.write(to: URL(fileURLWithPath: out), options: .atomic)
        }
        if let mask {
            let tensor = Tensor(shape: [result.slices, result.rows, result.columns], values: result.mask.map { $0 ? 1 : 0 })
            try NumpyArray.write(tensor).write(to: URL(fileURLWithPath: mask), options: .atomic)
        }
        if json {
            print(Self.json(result, out: result.output == nil ? nil : out))
            return
        }
        if skipped > 0 { print("skipped \(skipped) files that are not DICOM images") }
        print("\(result.lesions.count) lesion\(result.lesions.count == 1 ? "" : "s") (engine \(result.engine) \(result.engineVersion))")
        for lesion in result.lesions {
            let m = lesion.measurement
            print(String(
                format: "%@: %.1f mm³, longest %.1f mm, axial %.1f × %.1f mm, slices %d–%d, centre (%.1f, %.1f, %.1f) mm",
                lesion.name, m.volume, m.longestDiameter, m.longestAxialDiameter, m.perpendicularDiameter, m.firstSlice + 1, m.lastSlice + 1,
                m.centroid.x, m.centroid.y, m.centroid.z))
        }
        print(result.output == nil ? "no lesion: nothing written" : "wrote \(out) (\(result.outputFormat == .seg ? "DICOM Segmentation" : "RT Structure Set"))")
    }

    static func json(_ result: SegmentationPipeline.Result, out: String?) -> String {
        struct Lesion: Encodable {
            var name: String, volumeMm3: Double, longestDiameterMm: Double, longestAxialDiameterMm: Double, perpendicularDiameterMm: Double
            var firstSlice: Int, lastSlice: Int, centroidMm: [Double]
        }
        struct Report: Encodable {
            var studyInstanceUID: String, seriesInstanceUID: String, engine: String, lesions: [Lesion], output: String?
        }
        let report = Report(
            studyInstanceUID: result.studyInstanceUID, seriesInstanceUID: result.seriesInstanceUID, engine: result.engine,
            lesions: result.lesions.map {
                let m = $0.measurement
                return Lesion(
                    name: $0.name, volumeMm3: m.volume, longestDiameterMm: m.longestDiameter, longestAxialDiameterMm: m.longestAxialDiameter,
                    perpendicularDiameterMm: m.perpendicularDiameter, firstSlice: m.firstSlice, lastSlice: m.lastSlice,
                    centroidMm: [m.centroid.x, m.centroid.y, m.centroid.z])
            }, output: out)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
    }
}
