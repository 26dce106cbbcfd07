import DICOM
public import Foundation
public import Logging
public import Segmentation

/// Segmentation as one use case: choose the series → run it on an engine →
/// store the result, replacing the study's earlier Metis results → record the
/// lesions for follow-up. The HTTP route, the job API and `metis segment` all
/// call `run`; they differ only in the ports they give it (storage and a worker
/// over RPC, or a folder, the pipeline in this process and a file).
public struct SegmentationWorkflow: Sendable {
    /// What to segment, and how.
    public struct Request: Sendable {
        public var study: String
        /// A SeriesInstanceUID, or nil for the series-choice rule.
        public var series: String?
        /// An engine name, or empty for the runner's default.
        public var engine: String
        public var format: SegmentationPipeline.OutputFormat
        /// Whether the classical engine may run when the model reads none of the study's series.
        public var fallback: Bool

        public init(
            study: String, series: String? = nil, engine: String = "", format: SegmentationPipeline.OutputFormat = .rtstruct,
            fallback: Bool = false
        ) {
            self.study = study
            self.series = series
            self.engine = engine
            self.format = format
            self.fallback = fallback
        }
    }

    /// Progress of a run: the pipeline's stages, then store and record.
    public typealias Progress = SegmentationPipeline.Progress

    public var source: any SegmentationSeriesSource
    public var runner: any SegmentationRunner
    public var results: any SegmentationResultStore
    /// Where lesions are recorded for follow-up; nil records nothing (`metis segment`).
    public var recorder: (any SegmentationRecorder)?
    /// Largest series sent to an engine, bytes (max_series_bytes).
    public var maximumSeriesSize: Int
    /// The site's series names → sequence (sequence_names).
    public var sequenceNames: [String: SeriesChoice.Sequence]
    public var logger: Logger

    public init(
        source: any SegmentationSeriesSource, runner: any SegmentationRunner, results: any SegmentationResultStore,
        recorder: (any SegmentationRecorder)?, maximumSeriesSize: Int,
        sequenceNames: [String: SeriesChoice.Sequence] = [:], logger: Logger = Logger(label: "metis.segmentation")
    ) {
        self.source = source
        self.runner = runner
        self.results = results
        self.recorder = recorder
        self.maximumSeriesSize = maximumSeriesSize
        self.sequenceNames = sequenceNames
        self.logger = logger
    }

    public func run(_ request: Request, progress: @escaping Progress = { _, _ in }) async throws -> SegmentationReport {
        let start = ContinuousClock.now
        let (choice, engine) = try await choose(request)
        var timings = [SegmentationReport.Timing]()
        var clock = ContinuousClock.now
        func lap(_ stage: String) {
            let now = ContinuousClock.now
            timings.append(.init(stage: stage, seconds: Self.seconds(clock.duration(to: now))))
            clock = now
        }
        progress("fetch", 0)
        let instances = try await source.instances(study: request.study, series: choice.seriesInstanceUID)
        lap("fetch")
        let seriesSize = instances.reduce(0) { $0 + $1.count }
        guard seriesSize <= maximumSeriesSize else {
            throw SegmentationWorkflowError.seriesTooLarge(series: choice.seriesInstanceUID, bytes: seriesSize, limit: maximumSeriesSize)
        }
        let lossyInput = try Self.checkPixels(instances, series: choice.seriesInstanceUID)
        let outcome = try await runner.run(instances: instances, engine: engine, format: request.format, progress: progress)
        timings += outcome.timings.map { .init(stage: $0.stage, seconds: $0.seconds) }
        clock = ContinuousClock.now
        progress("store", 0)
        var output: SegmentationReport.Output?
        if let result = outcome.output {
            let location = try await results.store(result, study: request.study, source: choice.seriesInstanceUID, engine: outcome.engine)
            output = .init(
                format: result.format.rawValue, sopInstanceUID: result.sopInstanceUID, seriesInstanceUID: result.seriesInstanceUID,
                retrieveURL: location)
        }
        // The study's earlier results from Metis go, so that re-running never piles them up; what others stored stays.
        var replaced = [String]()
        for series in try await results.previousResults(study: request.study) where series != outcome.output?.seriesInstanceUID {
            try await results.remove(study: request.study, series: series)
            replaced.append(series)
        }
        lap("store")
        progress("store", 1)
        var tracking: SegmentationReport.Tracking?
        if let recorder {
            progress("record", 0)
            tracking = await recorder.record(outcome, study: request.study, structureSet: output?.sopInstanceUID ?? "")
            lap("record")
            progress("record", 1)
        }
        logger.info(
            "segmentation stored",
            metadata: [
                "dicom.study_instance_uid": "\(request.study)", "engine": "\(outcome.engine)", "lesions": "\(outcome.lesions.count)",
            ])
        return SegmentationReport(
            studyInstanceUID: request.study, seriesInstanceUID: choice.seriesInstanceUID, seriesChoice: choice.reason,
            lossyInput: lossyInput, engine: outcome.engine, engineVersion: outcome.engineVersion, notice: outcome.notice,
            lesions: outcome.lesions,
            rejected: outcome.rejected, intracranialVolumeMm3: outcome.intracranialVolume, output: output, replacedSeries: replaced,
            tracking: tracking, timings: timings, elapsedSeconds: Self.seconds(start.duration(to: .now)))
    }

    /// Refuses a series whose pixel data no decoder reads before it goes to a worker; answers whether any of it is lossy.
    static func checkPixels(_ instances: [Data], series: String) throws(SegmentationWorkflowError) -> Bool {
        var lossy = false
        for data in instances {
            guard let file = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true)) else { continue }
            if !file.transferSyntax.isDecodable {
                throw .undecodable(series: series, syntax: file.transferSyntax.description)
            }
            lossy = lossy || file.transferSyntax.isLossy || file.dataset.string(.lossyImageCompression) == "01"
        }
        return lossy
    }

    /// The series and the engine: the engine the request names (or the runner's default), fed only a series of a sequence it
    /// reads; else, when the request allows the fallback, the classical engine on one it reads; else what is missing.
    func choose(_ request: Request) async throws -> (SeriesChoice, engine: String) {
        let candidates = try await source.candidates(study: request.study)
        guard !candidates.isEmpty else { throw SegmentationWorkflowError.noStudy(request.study) }
        if let requested = request.series {
            guard let candidate = candidates.first(where: { $0.seriesInstanceUID == requested }) else {
                throw SegmentationWorkflowError.noSeries(study: request.study, series: requested)
            }
            return (
                SeriesChoice(
                    seriesInstanceUID: requested, reason: "requested (\"\(candidate.description)\", \(candidate.instances) images)"),
                request.engine
            )
        }
        let offer = try await runner.describe()
        let engine = request.engine.isEmpty ? offer.defaultEngine : request.engine
        let accepted =
            engine == "unetr" && !offer.modelSequences.isEmpty
            ? offer.modelSequences.compactMap(SeriesChoice.Sequence.init(rawValue:)) : SeriesChoice.defaultSequences
        switch SeriesChoice.pick(candidates, accepted: accepted, siteNames: sequenceNames) {
        case .success(let choice):
            return (choice, request.engine)
        case .failure(let none):
            if request.fallback, engine != "classical", case .success(var choice) = SeriesChoice.pick(candidates, siteNames: sequenceNames)
            {
                choice.reason += "; the classical engine instead of \(engine) (fallback): \(none)"
                return (choice, "classical")
            }
            throw SegmentationWorkflowError.noSeriesToSegment(study: request.study, engine: engine, none)
        }
    }

    /// A duration in seconds, for reports.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// What an engine offers the series choice.
public struct EngineOffer: Sendable {
    /// The engine an empty request gets.
    public var defaultEngine: String
    /// The MR sequences the model reads (t1c, flair, …); empty: the default sequences.
    public var modelSequences: [String]

    public init(defaultEngine: String, modelSequences: [String]) {
        self.defaultEngine = defaultEngine
        self.modelSequences = modelSequences
    }
}

/// Where the study's series come from.
public protocol SegmentationSeriesSource: Sendable {
    /// The study's series, with what the series-choice rule reads of them; empty when there is no such study.
    func candidates(study: String) async throws -> [SeriesChoice.Candidate]
    /// The series' instances as DICOM Part 10 files.
    func instances(study: String, series: String) async throws -> [Data]
}

/// Runs an engine on a series.
public protocol SegmentationRunner: Sendable {
    func describe() async throws -> EngineOffer
    /// `engine` empty: the runner's default.
    func run(
        instances: [Data], engine: String, format: SegmentationPipeline.OutputFormat, progress: @escaping SegmentationWorkflow.Progress
    ) async throws -> SegmentationOutcome
}

/// Where results are stored, and which earlier ones a new run replaces.
public protocol SegmentationResultStore: Sendable {
    /// Stores the output as the result of segmenting series `source` of `study` with `engine`; answers where to retrieve it.
    func store(_ output: SegmentationOutcome.Output, study: String, source: String, engine: String) async throws -> String
    /// The series of `study` Metis stored as segmentation results, as the store recorded them.
    func previousResults(study: String) async throws -> [String]
    func remove(study: String, series: String) async throws
}

/// Records a run's lesions for follow-up.
public protocol SegmentationRecorder: Sendable {
    /// Never throws: a record that cannot be made now is reported (and may be retried by the recorder).
    func record(_ outcome: SegmentationOutcome, study: String, structureSet: String) async -> SegmentationReport.Tracking
}
