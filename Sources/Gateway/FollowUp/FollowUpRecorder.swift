import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Keeps metis-tracking in step with storage: records each segmentation and
/// forgets deleted studies. An operation that fails (tracking restarting,
/// say) is reported to the caller and retried in the background with
/// back-off until it succeeds; a later operation on the same study replaces
/// a pending one, so the latest state wins.
///
/// With an outbox directory, every operation is saved there (`FollowUpOutbox`)
/// while it is tried, and marked done once tracking has it, so a gateway
/// crash loses none: `resume()` retries what a previous run left.
actor FollowUpRecorder {
    enum Operation: Sendable {
        case record(Metis_V1_RecordStudyRequest)
        case forget(String)

        var study: String {
            switch self {
            case .record(let request): request.studyInstanceUid
            case .forget(let study): study
            }
        }

        /// How a message names it.
        var noun: String {
            switch self {
            case .record: "record"
            case .forget: "removal"
            }
        }
    }

    /// What a caller learns.
    struct Outcome: Sendable {
        var recorded: Bool
        var reason: String?
        var tracks: Int?
    }

    private let tracking: Metis_V1_Tracking.Client
    private let logger: Logger
    private let outboxDirectory: URL?
    /// Opened on first use; nil without a directory, or when it cannot be opened.
    private var outbox: FollowUpOutbox?
    private var outboxOpened = false
    /// Per study, the sequence number of its newest operation not yet done.
    private var latest = [String: Int]()
    /// Per study, the newest operation that failed, waiting for a retry.
    private var pending = [String: (sequence: Int, operation: Operation)]()
    private var sequence = 0
    private var retrying: Task<Void, Never>?
    /// Whether storage still has a study; asked before a removal left by a
    /// previous run is sent, since that run may have stopped before storage's delete.
    private let studyIsStored: (@Sendable (String) async throws -> Bool)?
    /// Studies whose removal came from a previous run and awaits that check.
    private var unverified = Set<String>()

    init(
        tracking: Metis_V1_Tracking.Client, outbox: URL? = nil, logger: Logger,
        studyIsStored: (@Sendable (String) async throws -> Bool)? = nil
    ) {
        self.tracking = tracking
        self.outboxDirectory = outbox
        self.logger = logger
        self.studyIsStored = studyIsStored
    }

    /// Retries the operations a previous run left in the outbox.
    func resume() {
        openOutbox()
    }

    /// Opens the outbox once, and queues what a previous run left there.
    private func openOutbox() {
        guard !outboxOpened, let outboxDirectory else { return }
        outboxOpened = true
        do {
            outbox = try FollowUpOutbox(directory: outboxDirectory)
        } catch {
            logger.error("cannot open the follow-up outbox; updates are kept in memory only", metadata: ["error": "\(error)"])
            return
        }
        for (number, operation) in outbox?.recovered ?? [] {
            sequence = max(sequence, number)
            latest[operation.study] = number
            pending[operation.study] = (number, operation)
            if case .forget = operation { unverified.insert(operation.study) }
        }
        guard !pending.isEmpty else { return }
        logger.info("follow-up updates left by a previous run are retried", metadata: ["count": "\(pending.count)"])
        retryLater()
    }

    /// Records a segmentation; on failure it stays queued for retry.
    func record(_ request: Metis_V1_RecordStudyRequest) async -> Outcome {
        await perform(.record(request))
    }

    /// Operations waiting for a retry.
    var backlog: Int { pending.count }

    static let options = CallOptions(timeout: .seconds(30), waitForReady: false)

    /// Deletes a study from storage (`delete`) while its removal from the
    /// follow-up is saved to the outbox, then removes it from the follow-up.
    /// Saved first, the removal survives a crash right after storage's delete;
    /// should the crash come before it, the next run finds the study still
    /// stored and drops the removal. When `delete` fails, nothing is removed
    /// and an update of the study still waiting for a retry is kept.
    func deleteStudy<T: Sendable>(_ study: String, from delete: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiting = pending[study]?.operation
        let number = register(.forget(study))
        async let deleted = delete()
        save(.forget(study), number)
        let value: T
        do {
            value = try await deleted
        } catch {
            finish(study, number)
            if let waiting { queue(waiting) }
            throw error
        }
        _ = conclude(.forget(study), number, await outcome(of: .forget(study)))
        return value
    }

    /// Tries the operation once while saving it to the outbox: a crash before
    /// either is done leaves the entry, or tracking with the change (sent
    /// again at resume, which it takes as the same change).
    private func perform(_ operation: Operation) async -> Outcome {
        let number = register(operation)
        async let sent = outcome(of: operation)
        save(operation, number)
        return conclude(operation, number, await sent)
    }

    /// Numbers a new operation on its study; it replaces any older one.
    private func register(_ operation: Operation) -> Int {
        openOutbox()
        sequence += 1
        latest[operation.study] = sequence
        pending[operation.study] = nil
        unverified.remove(operation.study)
        return sequence
    }

    /// Saves an operation and leaves it to the retry loop.
    private func queue(_ operation: Operation) {
        let number = register(operation)
        save(operation, number)
        pending[operation.study] = (number, operation)
        retryLater()
    }

    private func retryLater() {
        if retrying == nil { retrying = Task { await self.retryLoop() } }
    }

    /// What a first try came to: done, refused for good, or queued for retry.
    private func conclude(_ operation: Operation, _ number: Int, _ result: Result<Int?, any Error>) -> Outcome {
        let study = operation.study
        switch result {
        case .success(let tracks):
            finish(study, number)
            return Outcome(recorded: true, reason: nil, tracks: tracks)
        case .failure(let error as RPCError) where error.code == .invalidArgument:
            // Retrying cannot help: say why.
            finish(study, number)
            return Outcome(recorded: false, reason: "metis-tracking refused the \(operation.noun): \(error.message)")
        case .failure(let error):
            logger.warning("follow-up update queued for retry", metadata: ["dicom.study_instance_uid": "\(study)", "error": "\(error)"])
            // Unless a newer operation on the study came meanwhile.
            if latest[study] == number {
                pending[study] = (number, operation)
                retryLater()
            }
            return Outcome(
                recorded: false, reason: "metis-tracking is unavailable (\(error)); the \(operation.noun) is retried in the background")
        }
    }

    /// The call's result, failure included.
    nonisolated private func outcome(of operation: Operation) async -> Result<Int?, any Error> {
        do {
            return .success(try await send(operation))
        } catch {
            return .failure(error)
        }
    }

    /// The call itself; the patient's track count for a record.
    nonisolated private func send(_ operation: Operation) async throws -> Int? {
        switch operation {
        case .record(let request):
            return Int(try await tracking.recordStudy(request, options: Self.options).tracks)
        case .forget(let study):
            _ = try await tracking.deleteStudy(.with { $0.studyInstanceUid = study }, options: Self.options)
            return nil
        }
    }

    /// Operation `number` on `study` is done: its queue entry goes, and it is
    /// marked done in the outbox, unless a newer operation replaced it.
    private func finish(_ study: String, _ number: Int) {
        if pending[study]?.sequence == number { pending[study] = nil }
        guard latest[study] == number else { return }
        latest[study] = nil
        guard let outbox else { return }
        if latest.isEmpty {
            outbox.clear()
        } else {
            do {
                try outbox.markDone(number)
            } catch {
                logger.warning("cannot mark a follow-up update done; it is sent again after a restart", metadata: ["error": "\(error)"])
            }
        }
    }

    private func retryLoop() async {
        var delay = Duration.milliseconds(500)
        while !pending.isEmpty, !Task.isCancelled {
            try? await Task.sleep(for: delay)
            for (study, entry) in pending {
                if unverified.contains(study), let studyIsStored {
                    // A removal a previous run saved before storage's delete: only sent if that delete happened.
                    guard let stored = try? await studyIsStored(study) else { continue }
                    guard pending[study]?.sequence == entry.sequence else { continue }
                    unverified.remove(study)
                    if stored {
                        finish(study, entry.sequence)
                        logger.notice(
                            "a follow-up removal left by a previous run is dropped: storage still has the study",
                            metadata: ["dicom.study_instance_uid": "\(study)"])
                        continue
                    }
                }
                do {
                    _ = try await send(entry.operation)
                    finish(study, entry.sequence)
                    logger.info("follow-up update retried successfully", metadata: ["dicom.study_instance_uid": "\(study)"])
                } catch let error as RPCError where error.code == .invalidArgument {
                    finish(study, entry.sequence)
                    logger.error(
                        "follow-up update refused on retry", metadata: ["dicom.study_instance_uid": "\(study)", "error": "\(error)"])
                } catch {
                    continue
                }
            }
            delay = min(delay * 2, .seconds(30))
        }
        retrying = nil
    }

    /// Saves the operation durably while it is tried.
    private func save(_ operation: Operation, _ number: Int) {
        guard let outbox else { return }
        do {
            try outbox.append(operation, sequence: number)
        } catch {
            logger.error("cannot write the follow-up outbox; this update is kept in memory only", metadata: ["error": "\(error)"])
        }
    }

    func shutdown() {
        retrying?.cancel()
    }
}
