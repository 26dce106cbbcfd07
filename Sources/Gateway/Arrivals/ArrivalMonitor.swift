import DICOM
import Foundation
import Logging
import MetisProcess
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Watches what the ingest pipeline stores: a series is complete once no
/// instance of it arrived for `stableSeconds`; the first rule it matches then
/// becomes a job in the persisted queue, which `ArrivalWorker` runs. Every
/// change is saved before it is acted on, so a restart loses neither a series
/// being watched (its clock starts again) nor a job (it resumes at the step
/// it had reached).
actor ArrivalMonitor: ArrivalObserver {
    let settings: ArrivalSettings
    let storage: Metis_V1_Storage.Client
    let logger: Logger
    private var state: ArrivalState
    /// When each watched series last got an instance (this run's clock).
    private var lastArrival = [String: ContinuousClock.Instant]()

    init(settings: ArrivalSettings, storage: Metis_V1_Storage.Client, logger: Logger) throws {
        self.settings = settings
        self.storage = storage
        self.logger = logger
        var state = try ArrivalState.load(settings.file)
        for index in state.jobs.indices where state.jobs[index].state == .running {
            // Interrupted by the restart: it runs again from the step it had reached.
            state.jobs[index].state = .queued
        }
        self.state = state
        let now = ContinuousClock.now
        for watched in state.watched { lastArrival[watched.series] = now }
    }

    // MARK: Arrivals

    func arrived(_ outcome: IngestPipeline.Outcome, origin: IngestPipeline.Origin) async {
        guard let series = outcome.seriesInstanceUID, let study = outcome.studyInstanceUID else { return }
        if lastArrival.updateValue(.now, forKey: series) != nil { return }
        state.watched.append(.init(study: study, series: series, origin: origin, firstArrival: Date()))
        state.studies.removeAll { $0.study == study }
        state.studies.append(.init(study: study, origin: origin, time: Date()))
        save()
    }

    /// Completes the series that have been quiet for `stableSeconds`, evaluating the rules on each.
    func completeStableSeries() async {
        let stable = Duration.seconds(settings.stableSeconds)
        let now = ContinuousClock.now
        let due = state.watched.filter { (lastArrival[$0.series] ?? now) + stable <= now }
        for watched in due {
            let match: ArrivalRule.Arrival
            do {
                match = try await describe(watched)
            } catch {
                logger.warning(
                    "a completed series cannot be read back; its rules wait another period",
                    metadata: ["dicom.series_instance_uid": "\(watched.series)", "error": "\(error)"])
                lastArrival[watched.series] = .now
                continue
            }
            state.watched.removeAll { $0.series == watched.series }
            lastArrival[watched.series] = nil
            if let number = settings.rules.firstIndex(where: { $0.matches(match) }) {
                let rule = settings.rules[number]
                let job = ArrivalState.Job(
                    id: UUID().uuidString.lowercased(), study: watched.study, series: watched.series, origin: watched.origin,
                    ruleNumber: number + 1, rule: rule.description, actions: rule.actions, created: Date(), updated: Date())
                state.jobs.append(job)
                logger.info(
                    "series complete: arrival rule \(number + 1) applies",
                    metadata: ["dicom.series_instance_uid": "\(watched.series)", "arrival.job": "\(job.id)"])
            }
            state.trim()
            save()
        }
    }

    /// What the rules match a completed series on, read from storage.
    private func describe(_ watched: ArrivalState.Watched) async throws -> ArrivalRule.Arrival {
        let response = try await storage.query(
            .with {
                $0.level = .series
                $0.studyInstanceUid = watched.study
                $0.seriesInstanceUid = watched.series
                $0.includeFields = ["SeriesDescription", "Modality"]
            })
        let attributes = try response.matches.first.map { try DICOMJSON.decode(Data($0.dicomJson.utf8)) } ?? Dataset()
        return ArrivalRule.Arrival(
            modality: attributes.string(.modality) ?? response.matches.first?.modality ?? "",
            seriesDescription: attributes.string(.seriesDescription) ?? "",
            callingAETitle: watched.origin.channel == .dimse ? watched.origin.source : "", origin: watched.origin.ruleName)
    }

    // MARK: Jobs

    /// The next job whose turn has come, marked running; nil when none is due.
    func takeDueJob() -> ArrivalState.Job? {
        let now = Date()
        guard
            let index = state.jobs.firstIndex(where: {
                $0.state == .queued || ($0.state == .retrying && ($0.nextAttempt ?? now) <= now)
            })
        else { return nil }
        state.jobs[index].state = .running
        state.jobs[index].attempts += 1
        state.jobs[index].updated = Date()
        save()
        return state.jobs[index]
    }

    /// Saves a job's progress (a step done, its segmentation job, its result).
    func update(_ job: ArrivalState.Job) {
        guard let index = state.jobs.firstIndex(where: { $0.id == job.id }) else { return }
        var job = job
        job.updated = Date()
        state.jobs[index] = job
        save()
    }

    /// Ends an attempt: done, failed for good, or to be tried again after a back-off.
    func finish(_ job: ArrivalState.Job, error: String?, retry: Bool) {
        var job = job
        job.lastError = error
        if error == nil {
            job.state = .succeeded
            job.nextAttempt = nil
        } else if retry, job.attempts < Self.maximumAttempts {
            let wait = min(3600, settings.retrySeconds << min(job.attempts - 1, 20))
            job.state = .retrying
            job.nextAttempt = Date().addingTimeInterval(TimeInterval(wait))
            logger.warning(
                "arrival job failed; trying again in \(wait) s", metadata: ["arrival.job": "\(job.id)", "error": "\(error ?? "")"])
        } else {
            job.state = .failed
            job.nextAttempt = nil
            logger.error("arrival job failed", metadata: ["arrival.job": "\(job.id)", "error": "\(error ?? "")"])
        }
        update(job)
    }

    /// Attempts before a job that keeps failing is given up.
    static let maximumAttempts = 10

    // MARK: Reading

    func snapshot() -> ArrivalState { state }

    private func save() {
        do {
            try state.save(settings.file)
        } catch {
            logger.error("cannot save the arrival queue", metadata: ["error": "\(error)"])
        }
    }
}
