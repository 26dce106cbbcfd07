import DICOM
import Foundation
import Hummingbird
import Logging
import Segmentation
import SegmentationWorkflow

/// `POST /segmentation/{StudyInstanceUID}` (the original route): runs the
/// segmentation workflow on the study (or its `?series=`) and answers its report.
struct SegmentationRoutes: Sendable {
    let workflow: SegmentationWorkflow

    func register(on router: Router<some RequestContext>) {
        router.post("/segmentation/:study") { request, context in
            let study = try context.parameters.require("study")
            guard UID.isValid(study) else { throw HTTPError(.badRequest, message: "'\(study)' is not a StudyInstanceUID") }
            let parameters = DICOMwebRequest.decodeQuery(request.uri.query ?? "")
            let series = parameters.first { $0.name == "series" }?.value
            if let series, !UID.isValid(series) { throw HTTPError(.badRequest, message: "'\(series)' is not a SeriesInstanceUID") }
            let segmentation = SegmentationWorkflow.Request(
                study: study, series: series, engine: parameters.first { $0.name == "engine" }?.value ?? "",
                format: try Self.format(parameters.first { $0.name == "format" }?.value),
                fallback: try Self.fallback(parameters.first { $0.name == "fallback" }?.value))
            var workflow = workflow
            workflow.logger = context.logger
            return try JSONBody.response(try await Self.answering { try await workflow.run(segmentation) })
        }
    }

    /// Runs `body`, turning the workflow's failures into the HTTP errors a client can act on.
    static func answering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SegmentationWorkflowError {
            throw HTTPError(error)
        }
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
    static func format(_ name: String?) throws(HTTPError) -> SegmentationPipeline.OutputFormat {
        switch name?.lowercased() {
        case nil, "", "rtstruct": return .rtstruct
        case "seg": return .seg
        default: throw HTTPError(.badRequest, message: "format '\(name!)' is not rtstruct or seg")
        }
    }
}

extension HTTPError {
    /// 404 for an unknown study or series, 422 when the engine reads none of
    /// the study's series or cannot decode the chosen one, 413 for a series over max_series_bytes, and a
    /// failed service's own mapping.
    init(_ error: SegmentationWorkflowError) {
        switch error {
        case .noStudy, .noSeries:
            self.init(.notFound, message: error.description)
        case .noSeriesToSegment(_, let engine, _):
            self.init(
                .unprocessableContent,
                message: "\(error.description); name one with ?series=\(engine == "classical" ? "" : ", or allow ?fallback=classical")")
        case .seriesTooLarge:
            self.init(.contentTooLarge, message: error.description)
        case .undecodable, .otherFrameOfReference:
            self.init(.unprocessableContent, message: error.description)
        case .unknownEngine:
            self.init(.badRequest, message: error.description)
        case .service(let name, let cause):
            self.init(cause, service: name)
        }
    }
}

extension FollowUpRecorder: SegmentationRecorder {
    func record(_ outcome: SegmentationOutcome, study: String, structureSet: String) async -> SegmentationReport.Tracking {
        let recorded = await record(outcome.followUpRecord(study: study, structureSet: structureSet))
        return .init(recorded: recorded.recorded, reason: recorded.reason, tracks: recorded.tracks)
    }
}
