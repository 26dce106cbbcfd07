import DICOM
import Foundation
import Hummingbird
import SegmentationWorkflow

/// `/api/v1/segmentations`: segmentation as an asynchronous job, for the web
/// application's Segment button (progress shown live through server-sent events).
struct SegmentationJobRoutes: Sendable {
    let workflow: SegmentationWorkflow
    let jobs: SegmentationJobs

    struct StartRequest: Decodable {
        var studyInstanceUID: String
        var seriesInstanceUID: String?
        var engine: String?
        /// rtstruct (default) or seg.
        var format: String?
        /// "classical": the classical engine when the model reads none of the study's series.
        var fallback: String?
    }

    func register(on router: Router<some RequestContext>) {
        router.post("/api/v1/segmentations") { request, context -> Response in
            let body = try await collectBody(request, limit: 64 << 10)
            let start: StartRequest
            do {
                start = try JSONDecoder().decode(StartRequest.self, from: body)
            } catch {
                throw HTTPError(
                    .badRequest,
                    message: "the body must be JSON {\"studyInstanceUID\": …, \"seriesInstanceUID\"?: …, \"engine\"?: …}: \(error)")
            }
            guard UID.isValid(start.studyInstanceUID) else {
                throw HTTPError(.badRequest, message: "'\(start.studyInstanceUID)' is not a StudyInstanceUID")
            }
            if let series = start.seriesInstanceUID, !UID.isValid(series) {
                throw HTTPError(.badRequest, message: "'\(series)' is not a SeriesInstanceUID")
            }
            let format = try SegmentationRoutes.format(start.format)
            let fallback = try SegmentationRoutes.fallback(start.fallback)
            let request = SegmentationWorkflow.Request(
                study: start.studyInstanceUID, series: start.seriesInstanceUID, engine: start.engine ?? "", format: format,
                fallback: fallback)
            let snapshot = await jobs.start(request, workflow: workflow, logger: context.logger)
            var response = try JSONBody.response(snapshot, status: .accepted)
            response.headers[.location] = "/api/v1/segmentations/\(snapshot.id)"
            return response
        }
        router.get("/api/v1/segmentations") { request, _ -> Response in
            let study = request.uri.queryParameters.get("study")
            if let study, !UID.isValid(study) { throw HTTPError(.badRequest, message: "'\(study)' is not a StudyInstanceUID") }
            return try JSONBody.response(await jobs.list(study: study))
        }
        router.get("/api/v1/segmentations/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let snapshot = await jobs.snapshot(id) else { throw HTTPError(.notFound, message: "no segmentation job \(id)") }
            return try JSONBody.response(snapshot)
        }
        router.get("/api/v1/segmentations/:id/events") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let events = await jobs.subscribe(id) else { throw HTTPError(.notFound, message: "no segmentation job \(id)") }
            let body = ResponseBody { writer in
                for await event in events {
                    try await writer.write(ByteBuffer(string: "event: \(event.name)\ndata: \(event.data)\n\n"))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }
}
