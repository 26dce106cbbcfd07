import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf

/// `metis.v1.Ingest` on the gateway's Unix socket: `metis import`'s way into
/// the ingest pipeline. The socket admits only this user and root, as the
/// services' sockets do.
struct IngestRPCService: Metis_V1_Ingest.ServiceProtocol {
    let ingest: IngestPipeline
    let audit: AuditLog?

    func storeInstance(request: Metis_V1_IngestRequest, context: ServerContext) async throws -> Metis_V1_StoreInstanceResponse {
        let source = request.source.isEmpty ? "metis import" : request.source
        let outcome = await ingest.store(
            [UploadedFile(name: "instance", data: request.dicom)], origin: .init(channel: .importTool, source: source))[0]
        audit?.record(
            AuditLog.Entry(
                time: AuditLog.timestamp(), action: .upload, method: "RPC", path: "Ingest/StoreInstance \(outcome.sopInstanceUID ?? "")",
                studyInstanceUID: outcome.studyInstanceUID, patientID: outcome.patientID, status: outcome.succeeded ? 200 : 400, token: nil,
                role: "local", client: source))
        guard outcome.succeeded else { throw Self.error(outcome) }
        return .with {
            $0.outcome =
                switch outcome.status {
                case .alreadyStored: .alreadyStored
                case .replaced: .replaced
                default: .stored
                }
            $0.patientID = outcome.patientID ?? ""
            $0.studyInstanceUid = outcome.studyInstanceUID ?? ""
            $0.seriesInstanceUid = outcome.seriesInstanceUID ?? ""
            $0.sopInstanceUid = outcome.sopInstanceUID ?? ""
            $0.sopClassUid = outcome.sopClassUID ?? ""
            $0.warnings = outcome.warnings
        }
    }

    /// A refusal as storage would answer it: its status code and a StoreRefusal.
    static func error(_ outcome: IngestPipeline.Outcome) -> RPCError {
        var details = Metis_V1_StoreRefusal()
        details.sopClassUid = outcome.sopClassUID ?? ""
        details.sopInstanceUid = outcome.sopInstanceUID ?? ""
        details.studyInstanceUid = outcome.studyInstanceUID ?? ""
        details.seriesInstanceUid = outcome.seriesInstanceUID ?? ""
        details.patientID = outcome.patientID ?? ""
        let message = outcome.reason ?? "refused"
        let (code, reason): (RPCError.Code, Metis_V1_StoreRefusal.Reason?) =
            switch outcome.refusal {
            case .unavailable, nil: (.unavailable, nil)
            case .tooLarge: (.resourceExhausted, nil)
            case .cannotUnderstand: (.invalidArgument, .cannotUnderstand)
            case .studyMismatch: (.invalidArgument, .studyMismatch)
            case .commandMismatch: (.invalidArgument, .commandMismatch)
            case .duplicateSOPInstance: (.alreadyExists, .duplicateSopInstance)
            case .conflictingHierarchy: (.alreadyExists, .conflictingHierarchy)
            }
        guard let reason else { return RPCError(code: code, message: message) }
        details.reason = reason
        return RPCError(code: code, message: message, details: details)
    }
}
