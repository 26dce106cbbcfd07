import Foundation
import Hummingbird
import Logging
import MetisProcess
import Segmentation
import SegmentationWorkflow
import ServiceLifecycle

/// Runs the arrival rules: completes stable series every half second and
/// runs the queue's jobs one at a time, each action in order from the one it
/// had reached: `segment` through the segmentation workflow (shown in
/// `/api/v1/segmentations` with its origin; the follow-up is updated),
/// `send` the result and `forward` the series to a peer. A failure that may
/// pass (a peer down, a service restarting) is tried again with back-off; one
/// that will not (the series cannot be segmented) fails the job at once.
struct ArrivalWorker: Service {
    let monitor: ArrivalMonitor
    let segmentation: SegmentationWorkflow
    let jobs: SegmentationJobs
    let sender: PeerSender
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        await monitor.completeStableSeries()
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        if let job = await monitor.takeDueJob() {
                            await perform(job)
                        } else {
                            try? await Task.sleep(for: .milliseconds(500))
                        }
                    }
                }
            }
        }
    }

    /// An attempt that may succeed later, or one that never will.
    private struct StepFailure: Error {
        var message: String
        var retry: Bool
    }

    func perform(_ job: ArrivalState.Job) async {
        var job = job
        do {
            while job.done < job.actions.count {
                try Task.checkCancellation()
                try await perform(job.actions[job.done], of: &job)
                job.done += 1
                await monitor.update(job)
            }
            await monitor.finish(job, error: nil, retry: false)
        } catch is CancellationError {
            // Shutting down: the job stays running in the saved state and runs again after the restart.
        } catch let failure as StepFailure {
            await monitor.finish(job, error: failure.message, retry: failure.retry)
        } catch {
            await monitor.finish(job, error: "\(error)", retry: true)
        }
    }

    private func perform(_ action: ArrivalRule.Action, of job: inout ArrivalState.Job) async throws {
        switch action {
        case .segment(let engine):
            let request = SegmentationWorkflow.Request(study: job.study, series: job.series, engine: engine, format: .rtstruct)
            let started = await jobs.start(request, workflow: segmentation, logger: logger, origin: job.originText)
            job.segmentationJobID = started.id
            await monitor.update(job)
            let finished = await jobs.finished(started.id)
            try Task.checkCancellation()
            guard let finished, finished.status != .running else {
                throw StepFailure(message: "segmentation job \(started.id) was lost", retry: true)
            }
            if let error = finished.error {
                // 4xx: this series cannot be segmented as asked (no retry helps); 5xx: a service failed.
                let permanent = (400..<500).contains(error.status) && error.status != 409
                throw StepFailure(message: "segmentation: \(error.message)", retry: !permanent)
            }
            job.resultSeries = finished.result?.output?.seriesInstanceUID
            if job.resultSeries == nil { job.notes.append("segmentation found no lesion: no result was stored") }
        case .send(let aeTitle):
            guard let result = job.resultSeries else {
                job.notes.append("nothing to send to \(aeTitle): the segmentation stored no result")
                return
            }
            try await send(study: job.study, series: result, to: aeTitle)
            job.notes.append("result sent to \(aeTitle)")
        case .forward(let aeTitle):
            try await send(study: job.study, series: job.series, to: aeTitle)
            job.notes.append("series forwarded to \(aeTitle)")
        }
    }

    private func send(study: String, series: String, to aeTitle: String) async throws {
        do {
            _ = try await sender.send(study: study, series: series, to: aeTitle)
        } catch let failure as PeerSender.Failure {
            throw StepFailure(message: failure.description, retry: true)
        }
    }
}
