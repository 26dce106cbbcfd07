import DICOM
import Foundation
import Hummingbird

/// `GET /api/v1/arrivals`: how recent studies arrived (the study list marks
/// DICOM arrivals and their automatic segmentation) and the arrival rules'
/// jobs, newest first; `?study=` keeps one study's.
struct ArrivalRoutes: Sendable {
    let monitor: ArrivalMonitor

    struct StudyArrival: Encodable, Sendable {
        var studyInstanceUID: String
        /// STOW-RS, upload, DIMSE or import.
        var channel: String
        /// The calling AE title over DICOM.
        var source: String?
        var arrived: Date
        /// The state of the study's latest arrival job, when a rule applied.
        var automatic: String?
    }

    struct Job: Encodable, Sendable {
        var id: String
        var studyInstanceUID: String
        var seriesInstanceUID: String
        var channel: String
        var source: String?
        var ruleNumber: Int
        var rule: String
        var actions: [String]
        var actionsDone: Int
        var state: String
        var attempts: Int
        var nextAttempt: Date?
        var lastError: String?
        var notes: [String]
        var segmentationJobID: String?
        var resultSeriesInstanceUID: String?
        var created: Date
        var updated: Date
    }

    struct Answer: Encodable, Sendable {
        var studies: [StudyArrival]
        var jobs: [Job]
    }

    func register(on router: Router<some RequestContext>) {
        router.get("/api/v1/arrivals") { request, _ -> Response in
            let study: String? = request.uri.queryParameters.get("study")
            if let study, !UID.isValid(study) { throw HTTPError(.badRequest, message: "'\(study)' is not a StudyInstanceUID") }
            let state = await monitor.snapshot()
            let jobs = state.jobs.reversed().filter { study == nil || $0.study == study }
            let studies = state.studies.reversed().filter { study == nil || $0.study == study }.map { arrival in
                StudyArrival(
                    studyInstanceUID: arrival.study, channel: arrival.origin.channel.rawValue,
                    source: arrival.origin.source.isEmpty ? nil : arrival.origin.source, arrived: arrival.time,
                    automatic: jobs.first { $0.study == arrival.study }?.state.rawValue)
            }
            let answer = Answer(
                studies: studies,
                jobs: jobs.map { job in
                    Job(
                        id: job.id, studyInstanceUID: job.study, seriesInstanceUID: job.series, channel: job.origin.channel.rawValue,
                        source: job.origin.source.isEmpty ? nil : job.origin.source, ruleNumber: job.ruleNumber, rule: job.rule,
                        actions: job.actions.map(\.description), actionsDone: job.done, state: job.state.rawValue, attempts: job.attempts,
                        nextAttempt: job.nextAttempt, lastError: job.lastError, notes: job.notes, segmentationJobID: job.segmentationJobID,
                        resultSeriesInstanceUID: job.resultSeries, created: job.created, updated: job.updated)
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(answer))))
        }
    }
}
