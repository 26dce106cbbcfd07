import DICOM
import Foundation
import Hummingbird
import Logging
import MetisProto
import MetisRPC
import Segmentation
import SwiftProtobuf

/// `POST /segmentation/{StudyInstanceUID}` (the original route): picks the
/// series (or takes `?series=`), fetches it from storage, runs it on an
/// inference worker, stores the RTSTRUCT as a new series of the study
/// (replacing Metis's previous result), and answers the lesions.
struct SegmentationRoutes: Sendable {
    let storage: Metis_V1_Storage.Client
    let inference: Metis_V1_Inference.Client
    let followUp: FollowUpRecorder
    /// Largest series sent to a worker (max_series_bytes).
    var maximumSeriesSize = 512 << 20
    /// The site's series names → sequence (sequence_names).
    var sequenceNames: [String: SeriesChoice.Sequence] = [:]

    func register(on router: Router<some RequestContext>) {
        router.post("/segmentation/:study") { request, context in
            let study = try context.parameters.require("study")
            guard UID.isValid(study) else { throw HTTPError(.badRequest, message: "'\(study)' is not a StudyInstanceUID") }
            let parameters = DICOMwebRequest.decodeQuery(request.uri.query ?? "")
            let series = parameters.first { $0.name == "series" }?.value
            let engine = parameters.first { $0.name == "engine" }?.value ?? ""
            let format = try Self.format(parameters.first { $0.name == "format" }?.value)
            let fallback = try Self.fallback(parameters.first { $0.name == "fallback" }?.value)
            return try JSONBody.response(
                try await segment(study: study, series: series, engine: engine, format: format, fallback: fallback, logger: context.logger))
        }
    }

    /// Progress of a job: stage (fetch, volume, engine, lesions, contours, encode, store) and fraction.
    typealias Progress = @Sendable (_ stage: String, _ fraction: Double) -> Void

    func segment(
        study: String, series requested: String?, engine requestedEngine: String, format: Metis_V1_OutputFormat = .rtstruct,
        fallback: Bool = false, logger: Logger, progress: Progress = { _, _ in }
    ) async throws -> SegmentationReport {
        let start = ContinuousClock.now
        let (choice, engine) = try await chooseSeries(study: study, requested: requested, engine: requestedEngine, fallback: fallback)
        var timings = [SegmentationReport.Timing]()
        var clock = ContinuousClock.now
        func lap(_ stage: String) {
            let now = ContinuousClock.now
            timings.append(.init(stage: stage, seconds: Self.seconds(clock.duration(to: now))))
            clock = now
        }
        progress("fetch", 0)
        let instances = try await fetch(study: study, series: choice.seriesInstanceUID)
        lap("fetch")
        let seriesSize = instances.reduce(0) { $0 + $1.count }
        guard seriesSize <= maximumSeriesSize else {
            throw HTTPError(
                .contentTooLarge,
                message: "series \(choice.seriesInstanceUID) holds \(seriesSize) bytes, more than max_series_bytes (\(maximumSeriesSize)); raise it in the configuration")
        }
        let result = try await run(instances: instances, engine: engine, format: format, progress: progress)
        progress("store", 0)
        timings += result.timings.map { .init(stage: $0.stage, seconds: $0.seconds) }
        clock = ContinuousClock.now
        var output: SegmentationReport.Output?
        var replaced = [String]()
        if !result.output.isEmpty {
            _ = try await calling("metis-storage") { try await storage.storeInstance(.with { $0.dicom = result.output }) }
            output = .init(
                format: result.outputFormat == .seg ? "seg" : "rtstruct",
                sopInstanceUID: result.outputSopInstanceUid, seriesInstanceUID: result.outputSeriesInstanceUid,
                retrieveURL: "/dicom-web/studies/\(study)/series/\(result.outputSeriesInstanceUid)")
        }
        // Metis's earlier results for this study go, so that re-running never piles up structure sets.
        replaced = try await removePreviousResults(study: study, keeping: result.outputSeriesInstanceUid)
        lap("store")
        progress("store", 1)
        progress("record", 0)
        let recorded = await followUp.record(Self.followUpRecord(result, study: study, structureSet: output?.sopInstanceUID ?? ""))
        lap("record")
        progress("record", 1)
        logger.info("segmentation stored", metadata: ["dicom.study_instance_uid": "\(study)", "lesions": "\(result.lesions.count)"])
        return SegmentationReport(
            studyInstanceUID: study, seriesInstanceUID: choice.seriesInstanceUID, seriesChoice: choice.reason,
            engine: result.engine, engineVersion: result.engineVersion, notice: result.notice,
            lesions: result.lesions.map(SegmentationReport.Lesion.init), rejected: result.rejected.map(SegmentationReport.Rejected.init),
            intracranialVolumeMm3: result.intracranialVolumeMm3, output: output, replacedSeries: replaced,
            tracking: .init(recorded: recorded.recorded, reason: recorded.reason, tracks: recorded.tracks),
            timings: timings, elapsedSeconds: Self.seconds(start.duration(to: .now)))
    }

    /// What metis-tracking keeps of a result.
    static func followUpRecord(_ result: Metis_V1_SegmentResult, study: String, structureSet: String) -> Metis_V1_RecordStudyRequest {
        .with {
            $0.patientID = result.patientID
            $0.patientName = result.patientName
            $0.birthDate = result.patientBirthDate
            $0.sex = result.patientSex
            $0.studyInstanceUid = study
            $0.seriesInstanceUid = result.seriesInstanceUid
            $0.structureSetSopInstanceUid = structureSet
            $0.studyDate = result.studyDate
            $0.engine = result.engine
            $0.modelVersion = result.engineVersion
            $0.sliceThicknessMm = result.sliceSpacingMm
            $0.headCentroidMm = result.headCentroidMm
            $0.lesions = result.lesions.map { lesion in
                .with {
                    $0.roiNumber = lesion.number
                    $0.label = lesion.name
                    $0.volumeMm3 = lesion.volumeMm3
                    $0.longestDiameterMm = lesion.longestDiameterMm
                    $0.longestAxialDiameterMm = lesion.longestAxialDiameterMm
                    $0.perpendicularDiameterMm = lesion.perpendicularDiameterMm
                    $0.firstSlice = lesion.firstSlice
                    $0.lastSlice = lesion.lastSlice
                    $0.centroidMm = lesion.centroid
                    $0.meanIntensity = lesion.meanIntensity
                }
            }
        }
    }

    /// The series and the engine: the engine the request names (or the workers' default), fed only a series of a sequence it
    /// reads; else, when the request allows the fallback, the classical engine on one it reads; else 422 saying what is missing.
    private func chooseSeries(study: String, requested: String?, engine requestedEngine: String, fallback: Bool) async throws -> (SeriesChoice, engine: String) {
        let response = try await calling("metis-storage") {
            try await storage.query(.with {
                $0.level = .series
                $0.studyInstanceUid = study
                $0.includeFields = SeriesChoice.Candidate.attributeTags.map(\.jsonKey)
            })
        }
        let candidates = try response.matches.map { json in
            let attributes = try DICOMJSONObject(json: json)
            return SeriesChoice.Candidate(seriesInstanceUID: attributes.string("0020000E") ?? "", instances: attributes.int("00201209") ?? 0) {
                attributes.values($0.jsonKey)
            }
        }
        guard !candidates.isEmpty else { throw HTTPError(.notFound, message: "no study \(study)") }
        if let requested {
            guard let candidate = candidates.first(where: { $0.seriesInstanceUID == requested }) else {
                throw HTTPError(.notFound, message: "no series \(requested) in study \(study)")
            }
            return (SeriesChoice(seriesInstanceUID: requested, reason: "requested (\"\(candidate.description)\", \(candidate.instances) images)"), requestedEngine)
        }
        let description = try await calling("metis-inference") { try await inference.describeEngine(.init(), options: Self.jobOptions) }
        let engine = requestedEngine.isEmpty ? description.defaultEngine : requestedEngine
        let accepted = engine == "unetr" && !description.modelSequences.isEmpty
            ? description.modelSequences.compactMap(SeriesChoice.Sequence.init(rawValue:)) : SeriesChoice.defaultSequences
        switch SeriesChoice.pick(candidates, accepted: accepted, siteNames: sequenceNames) {
        case .success(let choice):
            return (choice, requestedEngine)
        case .failure(let none):
            if fallback, engine != "classical", case .success(var choice) = SeriesChoice.pick(candidates, siteNames: sequenceNames) {
                choice.reason += "; the classical engine instead of \(engine) (fallback): \(none)"
                return (choice, "classical")
            }
            throw HTTPError(
                .unprocessableContent,
                message: "study \(study): no series to segment with \(engine): \(none); name one with ?series=\(engine == "classical" ? "" : ", or allow ?fallback=classical")")
        }
    }

    private func fetch(study: String, series: String) async throws -> [Data] {
        try await calling("metis-storage") {
            var instances = [Data]()
            for try await chunk in storage.retrieveInstances(.with {
                $0.studyInstanceUid = study
                $0.seriesInstanceUid = series
            }) {
                if chunk.offset == 0 { instances.append(Data(capacity: Int(chunk.totalSize))) }
                instances[instances.count - 1].append(chunk.data)
            }
            return instances
        }
    }

    /// A job may compute for minutes, and waits for a worker that is (re)starting.
    static let jobOptions = CallOptions(timeout: .seconds(1800), waitForReady: true)

    /// Runs the job on a worker; once more if that worker died (on another,
    /// or on the same one once `metis up` has restarted it).
    private func run(instances: [Data], engine: String, format: Metis_V1_OutputFormat, progress: Progress) async throws -> Metis_V1_SegmentResult {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await calling("metis-inference") {
                    var result: Metis_V1_SegmentResult?
                    for try await event in inference.segment(.with {
                        $0.instances = instances
                        $0.engine = engine
                        $0.outputFormat = format
                    }, options: Self.jobOptions) {
                        switch event.event {
                        case .result(let value): result = value
                        case .progress(let value): progress(value.stage, value.fraction)
                        case nil: break
                        }
                    }
                    guard let result else { throw RPCError(code: .internal, message: "the worker ended the job without a result") }
                    return result
                }
            } catch let error as HTTPError where error.status == .serviceUnavailable && attempt == 1 {
                continue
            }
        }
    }

    private func removePreviousResults(study: String, keeping current: String) async throws -> [String] {
        let response = try await calling("metis-storage") {
            try await storage.query(.with {
                $0.level = .series
                $0.studyInstanceUid = study
                $0.match = ["SeriesDescription": "Metis lesions*"]
            })
        }
        var removed = [String]()
        for json in response.matches {
            let attributes = try DICOMJSONObject(json: json)
            guard let series = attributes.string("0020000E"), series != current,
                ["RTSTRUCT", "SEG"].contains(attributes.string("00080060") ?? "")
            else { continue }
            _ = try await calling("metis-storage") {
                try await storage.deleteSeries(.with {
                    $0.studyInstanceUid = study
                    $0.seriesInstanceUid = series
                })
            }
            removed.append(series)
        }
        return removed
    }

    /// Whether the request allows the classical engine when the model reads none of the study's series (`fallback=classical`).
    static func fallback(_ value: String?) throws(HTTPError) -> Bool {
        switch value?.lowercased() {
        case nil, "", "none", "false": return false
        case "classical", "true": return true
        default: throw HTTPError(.badRequest, message: "fallback '\(value!)' is not classical or none")
        }
    }

    /// The output format a request names: rtstruct (the default) or seg.
    static func format(_ name: String?) throws(HTTPError) -> Metis_V1_OutputFormat {
        switch name?.lowercased() {
        case nil, "", "rtstruct": return .rtstruct
        case "seg": return .seg
        default: throw HTTPError(.badRequest, message: "format '\(name!)' is not rtstruct or seg")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// What `POST /segmentation/{study}` answers (docs/api.md).
struct SegmentationReport: Encodable, Sendable {
    struct Lesion: Encodable, Sendable {
        var number: UInt32
        var name: String
        var color: [UInt32]
        var volumeMm3: Double
        var longestDiameterMm: Double
        var longestAxialDiameterMm: Double
        var perpendicularDiameterMm: Double
        var centroidMm: [Double]
        var firstSlice: UInt32
        var lastSlice: UInt32
        var meanIntensity: Double

        init(_ lesion: Metis_V1_Lesion) {
            number = lesion.number
            name = lesion.name
            color = lesion.color
            volumeMm3 = lesion.volumeMm3
            longestDiameterMm = lesion.longestDiameterMm
            longestAxialDiameterMm = lesion.longestAxialDiameterMm
            perpendicularDiameterMm = lesion.perpendicularDiameterMm
            centroidMm = lesion.centroid
            firstSlice = lesion.firstSlice
            lastSlice = lesion.lastSlice
            meanIntensity = lesion.meanIntensity
        }
    }
    /// A component the engine found and the plausibility rules dropped.
    struct Rejected: Encodable, Sendable {
        /// outside_intracranial_volume, too_large or lining_inner_skull.
        var reason: String
        var explanation: String
        var volumeMm3: Double
        var centroidMm: [Double]

        init(_ component: Metis_V1_RejectedComponent) {
            reason = component.reason
            explanation = component.explanation
            volumeMm3 = component.volumeMm3
            centroidMm = component.centroid
        }
    }
    struct Output: Encodable, Sendable {
        /// rtstruct or seg.
        var format: String
        var sopInstanceUID: String
        var seriesInstanceUID: String
        var retrieveURL: String
    }
    struct Tracking: Encodable, Sendable {
        var recorded: Bool
        var reason: String?
        /// The patient's tracks after this study was recorded.
        var tracks: Int?
    }
    struct Timing: Encodable, Sendable {
        var stage: String
        var seconds: Double
    }

    var studyInstanceUID: String
    var seriesInstanceUID: String
    var seriesChoice: String
    var engine: String
    var engineVersion: String
    /// What the result is ("automatic, research use, not validated on patient data"), as written into the output.
    var notice: String
    var lesions: [Lesion]
    /// Components dropped before they became lesions, each with its reason.
    var rejected: [Rejected]
    var intracranialVolumeMm3: Double
    /// The stored RTSTRUCT or SEG; nil when no lesion was found (nothing is written then).
    var output: Output?
    var replacedSeries: [String]
    var tracking: Tracking
    var timings: [Timing]
    var elapsedSeconds: Double
}
