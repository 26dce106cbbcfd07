public import DICOM
public import Foundation
public import Segmentation

/// DICOM files read from disk (`metis segment`): their series by study.
public struct FileSeriesSource: SegmentationSeriesSource {
    private struct Series {
        var study: String
        var first: Dataset
        var files: [Data]
    }

    private let series: [String: Series]
    /// Files that were not DICOM images with study and series UIDs.
    public let skipped: Int

    /// Reads every file; keeps those with a study and series.
    public init(files: [URL]) {
        var series = [String: Series]()
        var skipped = 0
        for url in files {
            guard let data = try? Data(contentsOf: url), let file = try? DICOMReader.read(data),
                let study = file.dataset.string(.studyInstanceUID), let uid = file.dataset.string(.seriesInstanceUID)
            else {
                skipped += 1
                continue
            }
            if series[uid] == nil { series[uid] = Series(study: study, first: file.dataset, files: []) }
            series[uid]!.files.append(data)
        }
        self.series = series
        self.skipped = skipped
    }

    /// The StudyInstanceUIDs the files hold.
    public var studies: [String] { Set(series.values.map(\.study)).sorted() }

    /// The study a series belongs to.
    public func study(ofSeries uid: String) -> String? { series[uid]?.study }

    /// The SeriesInstanceUIDs of `study`.
    public func seriesUIDs(study: String) -> [String] { series.filter { $0.value.study == study }.keys.sorted() }

    public func candidates(study: String) async throws -> [SeriesChoice.Candidate] {
        series.filter { $0.value.study == study }.sorted { $0.key < $1.key }.map { uid, series in
            SeriesChoice.Candidate(seriesInstanceUID: uid, instances: series.files.count) { series.first.strings($0) ?? [] }
        }
    }

    public func instances(study: String, series uid: String) async throws -> [Data] {
        guard let found = series[uid], found.study == study else { throw SegmentationWorkflowError.noSeries(study: study, series: uid) }
        return found.files
    }
}

/// Runs the segmentation pipeline in this process, with one engine.
public struct PipelineRunner: SegmentationRunner {
    public let engine: any SegmentationEngine
    public let softwareVersion: String
    /// Sees each run's full result (its voxel masks), e.g. to write the mask a user asked for.
    public var inspect: (@Sendable (SegmentationPipeline.Result) -> Void)?

    public init(engine: any SegmentationEngine, softwareVersion: String) {
        self.engine = engine
        self.softwareVersion = softwareVersion
    }

    public func describe() async throws -> EngineOffer {
        EngineOffer(
            defaultEngine: engine.name, modelEngine: engine.name, modelChannels: engine.channels.map { $0.map(\.rawValue) })
    }

    public func run(
        channels: [SeriesInstances], engine name: String, format: SegmentationPipeline.OutputFormat,
        progress: @escaping SegmentationWorkflow.Progress
    ) async throws -> SegmentationOutcome {
        guard name.isEmpty || name == engine.name else { throw SegmentationWorkflowError.unknownEngine(name, available: [engine.name]) }
        let series = try channels.map { try $0.instances.map { try DICOMReader.read($0) } }
        let result = try SegmentationPipeline(engine: engine, softwareVersion: softwareVersion).run(
            channels: series, format: format, progress: progress)
        inspect?(result)
        return SegmentationOutcome(result, source: series[0][0].dataset)
    }
}

/// Writes the result to one file (`metis segment --out`); a file holds no
/// earlier results, so nothing is replaced.
public struct FileResultStore: SegmentationResultStore {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public func store(_ output: SegmentationOutcome.Output, study: String, source: String, engine: String) async throws -> String {
        try output.dicom.write(to: url, options: .atomic)
        return url.absoluteString
    }

    public func previousResults(study: String) async throws -> [String] { [] }

    public func remove(study: String, series: String) async throws {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "a result file keeps no earlier results to remove"])
    }
}
