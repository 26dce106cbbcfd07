import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging

/// C-STORE as SCP: each data set, wrapped as the Part 10 file it would have
/// been, goes through the same `InstanceUploader` as STOW-RS and `/uploadDicom`;
/// its outcome becomes the C-STORE status (PS3.4 B.2.3).
struct StoreSCP: Sendable {
    let uploader: InstanceUploader
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
        let header = InstanceUploader.identify(file)
        guard header.sopClass != nil || header.sopInstance != nil else {
            return finish(
                request, association, status: DIMSEStatus.cannotUnderstand,
                comment: "the data set cannot be read in \(context.transferSyntax)", study: nil, patient: nil)
        }
        if let datasetClass = header.sopClass, datasetClass != sopClass {
            return finish(
                request, association, status: DIMSEStatus.datasetDoesNotMatchSOPClass,
                comment: "data set SOP class \(datasetClass), command \(sopClass)", study: header.study, patient: nil)
        }
        if let datasetInstance = header.sopInstance, datasetInstance != sopInstance {
            return finish(
                request, association, status: DIMSEStatus.datasetDoesNotMatchSOPClass,
                comment: "data set SOP instance \(datasetInstance), command \(sopInstance)", study: header.study, patient: nil)
        }
        let result = await uploader.store([UploadedFile(name: sopInstance, data: file)])[0]
        let status: UInt16
        var comment: String?
        switch result.status {
        case .stored, .alreadyStored, .replaced:
            if let warning = result.warnings.first {
                status = DIMSEStatus.datasetDoesNotMatchSOPClassWarning
                comment = warning
            } else {
                status = DIMSEStatus.success
            }
        case .failed:
            comment = result.reason
            switch result.failureReason {
            case InstanceUploader.FailureReason.cannotUnderstand: status = DIMSEStatus.cannotUnderstand
            case InstanceUploader.FailureReason.duplicateSOPInstance: status = DIMSEStatus.duplicateSOPInstance
            case InstanceUploader.FailureReason.outOfResources: status = DIMSEStatus.outOfResources
            default: status = DIMSEStatus.processingFailure
            }
        }
        if result.status == .failed {
            logger.warning(
                "C-STORE refused",
                metadata: [
                    "dimse.calling_ae": "\(negotiated.callingAETitle)", "dicom.sop_instance_uid": "\(sopInstance)",
                    "dimse.status": "\(String(format: "0x%04X", status))", "reason": "\(comment ?? "")",
                ])
        }
        return finish(request, association, status: status, comment: comment, study: result.studyInstanceUID, patient: result.patientID)
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
