import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Keeps metis-tracking in step with storage: records each segmentation and
/// forgets deleted studies. An operation that fails (tracking restarting,
/// say) is reported to the caller and retried in the background with
/// back-off until it succeeds; a later operation on the same study replaces
/// a pending one, so the latest state wins.
actor FollowUpRecorder {
    enum Operation: Sendable {
        case record(Metis_V1_RecordStudyRequest)
        case forget(String)
    }

    /// What a caller learns.
    struct Outcome: Sendable {
        var recorded: Bool
        var reason: String?
        var tracks: Int?
    }

    private let tracking: Metis_V1_Tracking.Client
    private let logger: Logger
    /// Per study, the latest failed operation and its sequence number.
    private var pending = [String: (sequence: Int, operation: Operation)]()
    private var sequence = 0
    private var retrying: Task<Void, Never>?

    init(tracking: Metis_V1_Tracking.Client, logger: Logger) {
        self.tracking = tracking
        self.logger = logger
    }

    /// Records a segmentation; on failure it stays queued for retry.
    func record(_ request: Metis_V1_RecordStudyRequest) async -> Outcome {
        pending[request.studyInstanceUid] = nil
        do {
            let response = try await tracking.recordStudy(request, options: Self.options)
            return Outcome(recorded: true, reason: nil, tracks: Int(response.tracks))
        } catch let error as RPCError where error.code == .invalidArgument {
            // Retrying cannot help: say why.
            return Outcome(recorded: false, reason: "metis-tracking refused the record: \(error.message)")
        } catch {
            enqueue(.record(request), study: request.studyInstanceUid, error: error)
            return Outcome(recorded: false, reason: "metis-tracking is unavailable (\(error)); the record is retried in the background")
        }
    }

    /// Removes a deleted study from the follow-up; retried on failure.
    func forget(study: String) async -> Outcome {
        pending[study] = nil
        do {
            _ = try await tracking.deleteStudy(.with { $0.studyInstanceUid = study }, options: Self.options)
            return Outcome(recorded: true)
        } catch {
            enqueue(.forget(study), study: study, error: error)
            return Outcome(recorded: false, reason: "metis-tracking is unavailable (\(error)); the removal is retried in the background")
        }
    }

    /// Operations waiting for a retry.
    var backlog: Int { pending.count }

    static let options = CallOptions(timeout: .seconds(30), waitForReady: false)

    private func enqueue(_ operation: Operation, study: String, error: any Error) {
        logger.warning("follow-up update queued for retry", metadata: ["dicom.study_instance_uid": "\(study)", "error": "\(error)"])
        sequence += 1
        pending[study] = (sequence, operation)
        guard retrying == nil else { return }
        retrying = Task { await self.retryLoop() }
    }

    private func retryLoop() async {
        var delay = Duration.milliseconds(500)
        while !pending.isEmpty, !Task.isCancelled {
            try? await Task.sleep(for: delay)
            for (study, entry) in pending {
                do {
                    switch entry.operation {
                    case .record(let request): _ = try await tracking.recordStudy(request, options: Self.options)
                    case .forget(let uid): _ = try await tracking.deleteStudy(.with { $0.studyInstanceUid = uid }, options: Self.options)
                    }
                    // Only if nothing newer replaced it meanwhile.
                    if pending[study]?.sequence == entry.sequence { pending[study] = nil }
                    logger.info("follow-up update retried successfully", metadata: ["dicom.study_instance_uid": "\(study)"])
                } catch let error as RPCError where error.code == .invalidArgument {
                    if pending[study]?.sequence == entry.sequence { pending[study] = nil }
                    logger.error("follow-up update refused on retry", metadata: ["dicom.study_instance_uid": "\(study)", "error": "\(error)"])
                } catch {
                    continue
                }
            }
            delay = min(delay * 2, .seconds(30))
        }
        retrying = nil
    }

    func shutdown() {
        retrying?.cancel()
    }
}
