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
/// With an outbox directory, every operation is written there (fsynced)
/// before it is tried and removed once tracking has it, so a gateway crash
/// loses none: `resume()` retries what a previous run left.
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

    private let outbox: URL?

    init(tracking: Metis_V1_Tracking.Client, outbox: URL? = nil, logger: Logger) {
        self.tracking = tracking
        self.outbox = outbox
        self.logger = logger
    }

    /// Retries the operations a previous run left in the outbox.
    func resume() {
        guard let outbox, let files = try? FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil) else { return }
        for file in files where file.pathExtension == "pending" {
            guard let data = try? Data(contentsOf: file), let kind = data.first else { continue }
            let body = data.dropFirst()
            switch kind {
            case UInt8(ascii: "R"):
                guard let request = try? Metis_V1_RecordStudyRequest(serializedBytes: Array(body)) else { continue }
                sequence += 1
                pending[request.studyInstanceUid] = (sequence, .record(request))
            case UInt8(ascii: "F"):
                let study = String(decoding: body, as: UTF8.self)
                sequence += 1
                pending[study] = (sequence, .forget(study))
            default:
                continue
            }
        }
        guard !pending.isEmpty else { return }
        logger.info("follow-up updates left by a previous run are retried", metadata: ["count": "\(pending.count)"])
        if retrying == nil { retrying = Task { await self.retryLoop() } }
    }

    /// Records a segmentation; on failure it stays queued for retry.
    func record(_ request: Metis_V1_RecordStudyRequest) async -> Outcome {
        pending[request.studyInstanceUid] = nil
        save(.record(request), study: request.studyInstanceUid)
        do {
            let response = try await tracking.recordStudy(request, options: Self.options)
            discard(study: request.studyInstanceUid)
            return Outcome(recorded: true, reason: nil, tracks: Int(response.tracks))
        } catch let error as RPCError where error.code == .invalidArgument {
            // Retrying cannot help: say why.
            discard(study: request.studyInstanceUid)
            return Outcome(recorded: false, reason: "metis-tracking refused the record: \(error.message)")
        } catch {
            enqueue(.record(request), study: request.studyInstanceUid, error: error)
            return Outcome(recorded: false, reason: "metis-tracking is unavailable (\(error)); the record is retried in the background")
        }
    }

    /// Removes a deleted study from the follow-up; retried on failure.
    func forget(study: String) async -> Outcome {
        pending[study] = nil
        save(.forget(study), study: study)
        do {
            _ = try await tracking.deleteStudy(.with { $0.studyInstanceUid = study }, options: Self.options)
            discard(study: study)
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
                    if pending[study]?.sequence == entry.sequence {
                        pending[study] = nil
                        discard(study: study)
                    }
                    logger.info("follow-up update retried successfully", metadata: ["dicom.study_instance_uid": "\(study)"])
                } catch let error as RPCError where error.code == .invalidArgument {
                    if pending[study]?.sequence == entry.sequence {
                        pending[study] = nil
                        discard(study: study)
                    }
                    logger.error("follow-up update refused on retry", metadata: ["dicom.study_instance_uid": "\(study)", "error": "\(error)"])
                } catch {
                    continue
                }
            }
            delay = min(delay * 2, .seconds(30))
        }
        retrying = nil
    }

    /// The outbox file of a study: UIDs are digits and dots; anything else is hex-encoded.
    private func file(for study: String) -> URL? {
        guard let outbox else { return nil }
        let safe = !study.isEmpty && study.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        let name = safe ? study : study.utf8.map { String(format: "%02x", $0) }.joined()
        return outbox.appendingPathComponent(name + ".pending")
    }

    /// Writes the operation durably (temporary file, fsync, rename) before it is tried.
    private func save(_ operation: Operation, study: String) {
        guard let target = file(for: study), let outbox else { return }
        var data = Data()
        switch operation {
        case .record(let request):
            data.append(UInt8(ascii: "R"))
            data.append(contentsOf: (try? request.serializedBytes() as [UInt8]) ?? [])
        case .forget(let uid):
            data.append(UInt8(ascii: "F"))
            data.append(contentsOf: Array(uid.utf8))
        }
        do {
            try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
            let temporary = target.appendingPathExtension("tmp")
            FileManager.default.createFile(atPath: temporary.path, contents: data)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, target.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            // The rename itself must survive a power cut too.
            let directory = open(outbox.path, O_RDONLY)
            if directory >= 0 {
                fsync(directory)
                close(directory)
            }
        } catch {
            logger.error("cannot write the follow-up outbox; this update is kept in memory only", metadata: ["error": "\(error)"])
        }
    }

    private func discard(study: String) {
        guard let target = file(for: study) else { return }
        try? FileManager.default.removeItem(at: target)
    }

    func shutdown() {
        retrying?.cancel()
    }
}
