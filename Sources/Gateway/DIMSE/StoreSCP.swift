import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging

/// C-STORE as SCP: each data set, wrapped as the Part 10 file it would have
/// been, goes through the same `IngestPipeline` as STOW-RS and `/uploadDicom`,
/// which refuses a data set that is not what the command says; its outcome
/// becomes the C-STORE status (PS3.4 B.2.3).
struct StoreSCP: Sendable {
    let ingest: IngestPipeline
    let audit: AuditLog?
    let logger: Logger

    func store(_ request: DIMSEMessage, on association: Association) async -> DIMSEMessage {
        let negotiated = association.negotiated
        guard let dataset = request.dataset, let sopClass = request.affectedSOPClassUID, let sopInstance = request.affectedSOPInstanceUID,
            let context = negotiated.contexts[request.contextID]
        else {
            return request.response(
                status: DIMSEStatus.cannotUnderstand, elements: [.errorComment("C-STORE-RQ without its SOP UIDs or data set")])
        }
        guard sopClass == context.abstractSyntax else {
            return request.response(
                status: DIMSEStatus.sopClassNotSupported,
                elements: [.errorComment("SOP class \(sopClass) sent on the context of \(context.abstractSyntax)")])
        }
        let file: Data
        do {
            file = try Part10.wrap(
                encodedDataset: dataset, sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: context.transferSyntax,
                sourceAETitle: negotiated.callingAETitle)
        } catch {
            return request.response(status: DIMSEStatus.cannotUnderstand, elements: [.errorComment(error.message)])
        }
        var item = IngestPipeline.Item(UploadedFile(name: sopInstance, data: file))
        item.expectedSOPClass = sopClass
        item.expectedSOPInstance = sopInstance
        let outcome = await ingest.store([item], origin: .init(channel: .dimse, source: negotiated.callingAETitle))[0]
        let status = Self.status(of: outcome)
        let comment = outcome.succeeded ? outcome.warnings.first : outcome.reason
        if !outcome.succeeded {
            logger.warning(
                "C-STORE refused",
                metadata: [
                    "dimse.calling_ae": "\(negotiated.callingAETitle)", "dicom.sop_instance_uid": "\(sopInstance)",
                    "dimse.status": "\(String(format: "0x%04X", status))", "reason": "\(comment ?? "")",
                ])
        }
        return finish(request, association, status: status, comment: comment, study: outcome.studyInstanceUID, patient: outcome.patientID)
    }

    /// The C-STORE status of an outcome (PS3.4 B.2.3; 0xB007 for an instance stored as sent with defects).
    static func status(of outcome: IngestPipeline.Outcome) -> UInt16 {
        guard let refusal = outcome.refusal, !outcome.succeeded else {
            return outcome.warnings.isEmpty ? DIMSEStatus.success : DIMSEStatus.datasetDoesNotMatchSOPClassWarning
        }
        switch refusal {
        case .cannotUnderstand: return DIMSEStatus.cannotUnderstand
        case .duplicateSOPInstance: return DIMSEStatus.duplicateSOPInstance
        case .commandMismatch: return DIMSEStatus.datasetDoesNotMatchSOPClass
        case .tooLarge, .unavailable: return DIMSEStatus.outOfResources
        case .conflictingHierarchy, .studyMismatch: return DIMSEStatus.processingFailure
        }
    }

    private func finish(
        _ request: DIMSEMessage, _ association: Association, status: UInt16, comment: String?, study: String?, patient: String?
    ) -> DIMSEMessage {
        audit?.record(
            .dimse(
                .upload, operation: "C-STORE", association: association, status: status, study: study, patient: patient,
                instance: request.affectedSOPInstanceUID))
        return request.response(status: status, elements: comment.map { [.errorComment($0)] } ?? [])
    }
}

extension AuditLog.Entry {
    /// An entry for a DIMSE operation: method `DIMSE`, path `<operation> <SOP instance>`, client `AE@host`, role `dicom`.
    static func dimse(
        _ action: AuditLog.Action, operation: String, association: Association, status: UInt16, study: String? = nil,
        patient: String? = nil, instance: String? = nil
    ) -> AuditLog.Entry {
        let negotiated = association.negotiated
        return AuditLog.Entry(
            time: AuditLog.timestamp(), action: action, method: "DIMSE",
            path: [operation, instance].compactMap { $0 }.joined(separator: " "),
            studyInstanceUID: study, patientID: patient, status: Int(status), token: nil, role: "dicom",
            client: "\(negotiated.callingAETitle)@\(negotiated.peerHost)")
    }
}
