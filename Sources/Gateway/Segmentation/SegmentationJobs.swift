import Foundation
import Hummingbird
import Logging
import SegmentationWorkflow

/// Segmentation jobs started through `/api/v1/segmentations` or by an arrival
/// rule: their state, progress and result, and the subscribers of their
/// events. Kept in memory: a gateway restart loses jobs in flight, which then
/// read as unknown and can be started again (the study's previous result is
/// replaced, not doubled); the arrival rules' own queue is persisted
/// (`ArrivalLog`) and starts its jobs again.
actor SegmentationJobs {
    enum Status: String, Encodable, Sendable {
        case running, succeeded, failed
    }

    /// A job as `GET /api/v1/segmentations/{id}` shows it.
    struct Snapshot: Encodable, Sendable {
        var id: String
        var studyInstanceUID: String
        var seriesInstanceUID: String?
        /// Who started it: nil for a person (the web app, the API), else the arrival rule and how the series came.
        var origin: String?
        var status: Status
        var stage: String
        var fraction: Double
        var elapsedSeconds: Double
        var result: SegmentationReport?
        var error: ErrorBody?
    }

    struct ErrorBody: Encodable, Sendable {
        var status: Int
        var message: String
    }

    /// One server-sent event: its name and JSON data.
    struct Event: Sendable {
        var name: String
        var data: String
    }

    private struct Job {
        var snapshot: Snapshot
        var started: ContinuousClock.Instant
        var finished: ContinuousClock.Instant?
        var subscribers: [UUID: AsyncStream<Event>.Continuation] = [:]
    }

    private var jobs = [String: Job]()
    private var order = [String]()
    /// Finished jobs kept for status queries, the oldest dropped first.
    let retained = 500

    func start(_ request: SegmentationWorkflow.Request, workflow: SegmentationWorkflow, logger: Logger, origin: String? = nil) -> Snapshot {
        let id = UUID().uuidString.lowercased()
        let snapshot = Snapshot(
            id: id, studyInstanceUID: request.study, seriesInstanceUID: request.series, origin: origin, status: .running, stage: "queued",
            fraction: 0, elapsedSeconds: 0)
        jobs[id] = Job(snapshot: snapshot, started: .now)
        order.append(id)
        trim()
        // Progress arrives on the job's own task; a forwarder applies it in order.
        let (updates, sink) = AsyncStream<(String, Double)>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let forwarder = Task {
            for await (stage, fraction) in updates { self.progress(id, stage: stage, fraction: fraction) }
        }
        var workflow = workflow
        workflow.logger = logger
        Task { [workflow] in
            var result: SegmentationReport?, failure: ErrorBody?
            do {
                result = try await SegmentationRoutes.answering {
                    try await workflow.run(request) { stage, fraction in sink.yield((stage, fraction)) }
                }
            } catch let error as HTTPError {
                failure = ErrorBody(status: error.status.code, message: error.body ?? error.status.reasonPhrase)
            } catch {
                logger.error("segmentation job failed: \(error)", metadata: ["job": "\(id)"])
                failure = ErrorBody(status: 500, message: "internal error")
            }
            sink.finish()
            await forwarder.value
            self.finish(id, result: result, error: failure)
        }
        return snapshot
    }

    func snapshot(_ id: String) -> Snapshot? {
        guard var job = jobs[id] else { return nil }
        job.snapshot.elapsedSeconds = SegmentationWorkflow.seconds(job.started.duration(to: job.finished ?? .now))
        return job.snapshot
    }

    /// The jobs kept, newest first; only a study's when `study` is set.
    func list(study: String? = nil) -> [Snapshot] {
        order.reversed().compactMap { id in
            guard let job = jobs[id], study == nil || job.snapshot.studyInstanceUID == study else { return nil }
            return snapshot(id)
        }
    }

    /// The job once it has finished (nil for an unknown job).
    func finished(_ id: String) async -> Snapshot? {
        guard let events = subscribe(id) else { return nil }
        for await _ in events {}
        return snapshot(id)
    }

    /// The job's events from now on; a finished job's final event at once.
    func subscribe(_ id: String) -> AsyncStream<Event>? {
        guard let job = jobs[id], let snapshot = snapshot(id) else { return nil }
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(256))
        continuation.yield(Self.progressEvent(snapshot))
        if job.snapshot.status != .running {
            continuation.yield(Self.finalEvent(snapshot))
            continuation.finish()
            return stream
        }
        let key = UUID()
        jobs[id]?.subscribers[key] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id, key) } }
        return stream
    }

    private func unsubscribe(_ id: String, _ key: UUID) {
        jobs[id]?.subscribers[key] = nil
    }

    private func progress(_ id: String, stage: String, fraction: Double) {
        guard var job = jobs[id], job.snapshot.status == .running else { return }
        job.snapshot.stage = stage
        job.snapshot.fraction = fraction
        job.snapshot.elapsedSeconds = SegmentationWorkflow.seconds(job.started.duration(to: .now))
        jobs[id] = job
        let event = Self.progressEvent(job.snapshot)
        for subscriber in job.subscribers.values { subscriber.yield(event) }
    }

    private func finish(_ id: String, result: SegmentationReport?, error: ErrorBody?) {
        guard var job = jobs[id] else { return }
        job.finished = .now
        job.snapshot.status = error == nil ? .succeeded : .failed
        job.snapshot.result = result
        job.snapshot.error = error
        if error == nil {
            job.snapshot.stage = "done"
            job.snapshot.fraction = 1
        }
        job.snapshot.elapsedSeconds = SegmentationWorkflow.seconds(job.started.duration(to: job.finished!))
        let event = Self.finalEvent(job.snapshot)
        for subscriber in job.subscribers.values {
            subscriber.yield(event)
            subscriber.finish()
        }
        job.subscribers = [:]
        jobs[id] = job
    }

    private func trim() {
        while order.count > retained, let index = order.firstIndex(where: { jobs[$0]?.snapshot.status != .running }) {
            jobs[order.remove(at: index)] = nil
        }
    }

    private static func progressEvent(_ snapshot: Snapshot) -> Event {
        struct Progress: Encodable {
            var stage: String
            var fraction: Double
            var elapsedSeconds: Double
        }
        return Event(
            name: "progress",
            data: encode(Progress(stage: snapshot.stage, fraction: snapshot.fraction, elapsedSeconds: snapshot.elapsedSeconds)))
    }

    private static func finalEvent(_ snapshot: Snapshot) -> Event {
        Event(name: snapshot.status == .succeeded ? "done" : "failed", data: encode(snapshot))
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

}
