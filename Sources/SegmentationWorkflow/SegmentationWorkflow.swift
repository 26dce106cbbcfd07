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
        let (choices, engine) = try await choose(request)
        let choice = choices[0]
        var timings = [SegmentationReport.Timing]()
        var clock = ContinuousClock.now
        func lap(_ stage: String) {
            let now = ContinuousClock.now
            timings.append(.init(stage: stage, seconds: Self.seconds(clock.duration(to: now))))
            clock = now
        }
        progress("fetch", 0)
        var channels = [SeriesInstances]()
        var seriesSize = 0, lossyInput = false, frameOfReference: String?
        for channel in choices {
            let instances = try await source.instances(study: request.study, series: channel.seriesInstanceUID)
            seriesSize += instances.reduce(0) { $0 + $1.count }
            guard seriesSize <= maximumSeriesSize else {
                throw SegmentationWorkflowError.seriesTooLarge(
                    series: channel.seriesInstanceUID, bytes: seriesSize, limit: maximumSeriesSize)
            }
            let inspected = try Self.inspect(instances, series: channel.seriesInstanceUID)
            lossyInput = lossyInput || inspected.lossy
            if let first = channels.first, let reference = frameOfReference, inspected.frameOfReference != reference {
                throw SegmentationWorkflowError.otherFrameOfReference(
                    series: channel.seriesInstanceUID, inspected.frameOfReference, reference: first.seriesInstanceUID, reference)
            }
            frameOfReference = frameOfReference ?? inspected.frameOfReference
            channels.append(SeriesInstances(seriesInstanceUID: channel.seriesInstanceUID, instances: instances))
        }
        lap("fetch")
        let outcome = try await runner.run(channels: channels, engine: engine, format: request.format, progress: progress)
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
            channels: choices.map { .init(seriesInstanceUID: $0.seriesInstanceUID, sequence: $0.sequence.rawValue, choice: $0.reason) },
            lossyInput: lossyInput, engine: outcome.engine, engineVersion: outcome.engineVersion, notice: outcome.notice,
            lesions: outcome.lesions, labels: outcome.labelNames,
            rejected: outcome.rejected, intracranialVolumeMm3: outcome.intracranialVolume, output: output, replacedSeries: replaced,
            tracking: tracking, timings: timings, elapsedSeconds: Self.seconds(start.duration(to: .now)))
    }

    /// Refuses a series whose pixel data no decoder reads before it goes to a worker; answers whether any of it is lossy,
    /// and its Frame of Reference (that of its first readable instance; empty when absent).
    static func inspect(_ instances: [Data], series: String) throws(SegmentationWorkflowError) -> (
        lossy: Bool, frameOfReference: String
    ) {
        var lossy = false
        var frameOfReference: String?
        for data in instances {
            guard let file = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true)) else { continue }
            if !file.transferSyntax.isDecodable {
                throw .undecodable(series: series, syntax: file.transferSyntax.description)
            }
            lossy = lossy || file.transferSyntax.isLossy || file.dataset.string(.lossyImageCompression) == "01"
            frameOfReference = frameOfReference ?? file.dataset.string(.frameOfReferenceUID) ?? ""
        }
        return (lossy, frameOfReference ?? "")
    }

    /// The series (one per input channel of the engine) and the engine: the
    /// engine the request names (or the runner's default), fed only series of
    /// the sequences it reads (a requested series — an arrival rule's, say —
    /// takes the channel that reads its sequence, the first one otherwise); else,
    /// when the request allows the fallback, the classical engine on one it reads; else what is missing.
    func choose(_ request: Request) async throws -> ([SeriesChoice], engine: String) {
        let candidates = try await source.candidates(study: request.study)
        guard !candidates.isEmpty else { throw SegmentationWorkflowError.noStudy(request.study) }
        let offer = try await runner.describe()
        let engine = request.engine.isEmpty ? offer.defaultEngine : request.engine
        let channels =
            engine == offer.modelEngine && !offer.modelChannels.isEmpty
            ? offer.modelChannels.map { $0.compactMap(SeriesChoice.Sequence.init(rawValue:)) } : [SeriesChoice.defaultSequences]
        var requested: SeriesChoice?
        if let series = request.series {
            guard let candidate = candidates.first(where: { $0.seriesInstanceUID == series }) else {
                throw SegmentationWorkflowError.noSeries(study: request.study, series: series)
            }
            requested = SeriesChoice(
                seriesInstanceUID: series, sequence: SeriesChoice.classify(candidate, siteNames: sequenceNames).0,
                reason: "requested (\"\(candidate.description)\", \(candidate.instances) images)")
            if channels.count == 1 { return ([requested!], request.engine) }
        }
        switch SeriesChoice.pick(candidates, channels: channels, fixed: requested, siteNames: sequenceNames) {
        case .success(let choices):
            return (choices, request.engine)
        case .failure(let missing):
            if request.fallback, engine != "classical", case .success(var choice) = SeriesChoice.pick(candidates, siteNames: sequenceNames)
            {
                choice.reason += "; the classical engine instead of \(engine) (fallback): \(missing)"
                return ([choice], "classical")
            }
            throw SegmentationWorkflowError.noSeriesToSegment(study: request.study, engine: engine, missing)
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
    /// The engine that runs the model ("unetr", "segresnet"); empty without one.
    public var modelEngine: String
    /// The MR sequences (t1c, flair, …) of each of the model's input channels; empty: the default sequences, one channel.
    public var modelChannels: [[String]]

    public init(defaultEngine: String, modelEngine: String, modelChannels: [[String]]) {
        self.defaultEngine = defaultEngine
        self.modelEngine = modelEngine
        self.modelChannels = modelChannels
    }
}

/// The instances of one series, for one input channel of an engine.
public struct SeriesInstances: Sendable {
    public var seriesInstanceUID: String
    /// DICOM Part 10 files.
    public var instances: [Data]

    public init(seriesInstanceUID: String, instances: [Data]) {
        self.seriesInstanceUID = seriesInstanceUID
        self.instances = instances
    }
}

/// Where the study's series come from.
public protocol SegmentationSeriesSource: Sendable {
    /// The study's series, with what the series-choice rule reads of them; empty when there is no such study.
    func candidates(study: String) async throws -> [SeriesChoice.Candidate]
    /// The series' instances as DICOM Part 10 files.
    func instances(study: String, series: String) async throws -> [Data]
}

/// Runs an engine on a series, or on one series per input channel of a model reading several.
public protocol SegmentationRunner: Sendable {
    func describe() async throws -> EngineOffer
    /// `engine` empty: the runner's default. `channels` in the engine's channel order.
    func run(
        channels: [SeriesInstances], engine: String, format: SegmentationPipeline.OutputFormat,
        progress: @escaping SegmentationWorkflow.Progress
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
