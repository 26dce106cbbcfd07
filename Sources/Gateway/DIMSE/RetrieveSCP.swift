import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProcess
import MetisProto
import MetisRPC
import SwiftProtobuf

/// C-MOVE and C-GET as SCP (PS3.4 C.4.2, C.4.3): the identifier's unique keys
/// name the instances; each is sent by a C-STORE sub-operation — to the
/// destination AE on an association of its own (C-MOVE), or back on the same
/// association (C-GET) — in its stored syntax when the receiver accepted it,
/// else transcoded by storage to one it did; a pending response after each
/// sub-operation carries the counts.
struct RetrieveSCP: Sendable {
    let storage: Metis_V1_Storage.Client
    let aeTitle: String
    let peers: DICOMPeerTable
    let settings: AssociationSettings
    let audit: AuditLog?
    let logger: Logger

    /// One instance to send.
    struct Item: Sendable {
        var study: String
        var series: String
        var sopInstance: String
        var sopClass: String
        var transferSyntax: String
    }

    /// Where sub-operations go: a C-STORE with its context, answered by a status.
    typealias Sender = @Sendable (_ item: Item, _ contextID: UInt8, _ dataset: Data) async throws -> UInt16

    func move(_ request: DIMSEMessage, on association: Association) async -> DIMSEMessage {
        let items: [Item]
        do {
            items = try await instances(of: request, on: association)
        } catch {
            return failure(request, error)
        }
        guard let destinationTitle = request.command.string(.moveDestination)?.trimmingCharacters(in: .whitespaces),
            let destination = peers.peer(destinationTitle), destination.services.contains(.store)
        else {
            let named = request.command.string(.moveDestination) ?? ""
            return request.response(
                status: DIMSEStatus.moveDestinationUnknown,
                elements: [.errorComment("'\(named)' is not a configured peer that receives instances (dicom_peers)")])
        }
        let sender = PeerSender(storage: storage, aeTitle: aeTitle, peers: peers, settings: settings, audit: audit, logger: logger)
        let tally: SubOperations.Tally
        do {
            tally = try await sender.store(
                items, to: destination, originator: (association.negotiated.callingAETitle, request.messageID ?? 0),
                requester: association
            ) { tally in await pending(request, tally, on: association) }
        } catch {
            logger.warning("C-MOVE destination refused", metadata: ["dimse.destination": "\(destination)", "error": "\(error)"])
            return request.response(
                status: DIMSEStatus.outOfResourcesSubOperations, elements: [.errorComment("destination \(error.description)")])
        }
        return finish(request, tally, on: association)
    }

    func get(_ request: DIMSEMessage, on association: Association, router: ResponseRouter) async -> DIMSEMessage {
        let items: [Item]
        do {
            items = try await instances(of: request, on: association)
        } catch {
            return failure(request, error)
        }
        let tally = await SubOperations(storage: storage, logger: logger).perform(
            items, receiver: association.negotiated,
            send: { item, contextID, dataset in
                let store = DIMSEMessage.request(
                    .cStoreRequest, contextID: contextID, messageID: router.nextMessageID(), sopClass: item.sopClass,
                    elements: [.us(.priority, DIMSEPriority.medium.rawValue), .text(.affectedSOPInstanceUID, .UI, item.sopInstance)],
                    dataset: dataset)
                let answer = try await router.perform(store, on: association)
                return answer.status ?? 0xFFFF
            }, afterEach: { tally in await pending(request, tally, on: association) })
        return finish(request, tally, on: association)
    }

    // MARK: Sub-operations

    /// A pending response with the sub-operation counts, while some remain.
    private func pending(_ request: DIMSEMessage, _ tally: SubOperations.Tally, on association: Association) async {
        guard tally.remaining > 0 else { return }
        try? await association.send(
            request.response(
                status: DIMSEStatus.pending,
                elements: DataElement.subOperations(
                    remaining: tally.remaining, completed: tally.completed, failed: tally.failed, warning: tally.warning)))
    }

    /// The final response of a C-MOVE or C-GET: Cancel with what remained, or the tally's status.
    private func finish(_ request: DIMSEMessage, _ tally: SubOperations.Tally, on association: Association) -> DIMSEMessage {
        if tally.cancelled {
            return final(
                request, status: DIMSEStatus.cancel, remaining: tally.remaining, tally.completed, tally.failed, tally.warning,
                tally.failedInstances, association)
        }
        return final(
            request, status: tally.status, remaining: nil, tally.completed, tally.failed, tally.warning, tally.failedInstances, association)
    }

    private func final(
        _ request: DIMSEMessage, status: UInt16, remaining: Int?, _ completed: Int, _ failed: Int, _ warning: Int,
        _ failedInstances: [String],
        _ association: Association
    ) -> DIMSEMessage {
        let operation = request.commandField == .cMoveRequest ? "C-MOVE" : "C-GET"
        audit?.record(.dimse(.read, operation: operation, association: association, status: status))
        var identifier: Data?
        if !failedInstances.isEmpty, let syntax = association.negotiated.contexts[request.contextID]?.transferSyntax {
            var dataset = Dataset()
            dataset[.failedSOPInstanceUIDList] = .text(.failedSOPInstanceUIDList, .UI, failedInstances.joined(separator: "\\"))
            identifier = try? DICOMWriter.elements(dataset, transferSyntax: TransferSyntax(uid: syntax))
        }
        return request.response(
            status: status,
            elements: DataElement.subOperations(remaining: remaining, completed: completed, failed: failed, warning: warning),
            dataset: identifier)
    }

    /// What a destination is offered besides an instance's own compressed syntax.
    static let native = TransferSyntax.nativeLittleEndian.map(\.uid)

    /// The receiver's context for `item`: one in its stored syntax, else one storage transcodes it to
    /// (`Transcoder.producible`; JPEG-LS Lossless only from a lossless source).
    static func context(for item: Item, in receiver: NegotiatedAssociation) -> (UInt8, String)? {
        let candidates = receiver.contexts.filter { $0.value.abstractSyntax == item.sopClass }.sorted { $0.key < $1.key }
        if let same = candidates.first(where: { $0.value.transferSyntax == item.transferSyntax }) { return (same.key, item.transferSyntax) }
        let stored = TransferSyntax(uid: item.transferSyntax)
        let producible = Transcoder.producible.filter { $0 != .jpegLSLossless || !stored.isLossy }.map(\.uid)
        if let other = candidates.first(where: { producible.contains($0.value.transferSyntax) }) {
            return (other.key, other.value.transferSyntax)
        }
        return nil
    }

    /// What to propose to a C-MOVE destination: per SOP class, one context per stored compressed syntax and one
    /// for Explicit and Implicit VR Little Endian (at most 128 contexts).
    static func storageRequest(for items: [Item], calling: String, called: String, settings: AssociationSettings) -> AssociationRequest {
        var pairs = [(String, [String])]()
        for item in items {
            let stored = TransferSyntax(uid: item.transferSyntax)
            if !pairs.contains(where: { $0.0 == item.sopClass && $0.1 == native }) { pairs.append((item.sopClass, native)) }
            if stored.isEncapsulated || stored.isDeflated || !stored.isLittleEndian,
                !pairs.contains(where: { $0.0 == item.sopClass && $0.1 == [stored.uid] })
            {
                pairs.append((item.sopClass, [stored.uid]))
            }
        }
        let contexts = pairs.prefix(128).enumerated().map { index, pair in
            ProposedContext(id: UInt8(2 * index + 1), abstractSyntax: pair.0, transferSyntaxes: pair.1)
        }
        return AssociationRequest(
            calledAETitle: called, callingAETitle: calling, presentationContexts: contexts,
            userInformation: UserInformation(
                maximumLength: settings.maximumReceiveLength, implementationClassUID: UID.implementationClass,
                implementationVersionName: UID.implementationVersionName))
    }

    // MARK: Which instances

    /// The instances the identifier names (its level's unique keys), in series and instance order.
    private func instances(of request: DIMSEMessage, on association: Association) async throws -> [Item] {
        guard let context = association.negotiated.contexts[request.contextID], let data = request.dataset else {
            throw DIMSEFailure(DIMSEStatus.cannotUnderstand, "request without an identifier")
        }
        let dataset: Dataset
        do {
            dataset = try DICOMReader.readElements(data, transferSyntax: TransferSyntax(uid: context.transferSyntax))
        } catch {
            throw DIMSEFailure(DIMSEStatus.cannotUnderstand, "identifier unreadable: \(error)")
        }
        let patientRoot = SOPClass.patientRootMove == context.abstractSyntax || SOPClass.patientRootGet == context.abstractSyntax
        let level = dataset.string(.queryRetrieveLevel)?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        let required: [(Tag, String)]
        switch level {
        case "PATIENT" where patientRoot: required = [(.patientID, "PatientID")]
        case "STUDY": required = [(.studyInstanceUID, "StudyInstanceUID")]
        case "SERIES": required = [(.studyInstanceUID, "StudyInstanceUID"), (.seriesInstanceUID, "SeriesInstanceUID")]
        case "IMAGE":
            required = [
                (.studyInstanceUID, "StudyInstanceUID"), (.seriesInstanceUID, "SeriesInstanceUID"), (.sopInstanceUID, "SOPInstanceUID"),
            ]
        default:
            throw DIMSEFailure(DIMSEStatus.identifierDoesNotMatchSOPClass, "Query/Retrieve Level '\(level)' is not valid here")
        }
        var match = [String: String]()
        for (tag, keyword) in required {
            guard let value = dataset.strings(tag)?.joined(separator: "\\"), !value.isEmpty else {
                // Patient Root below PATIENT names the patient too, but the UIDs below it are enough to find the instances.
                throw DIMSEFailure(DIMSEStatus.identifierDoesNotMatchSOPClass, "\(keyword) is required at \(level) level")
            }
            match[keyword] = value
        }
        if patientRoot, let patient = dataset.string(.patientID), !patient.isEmpty { match["PatientID"] = patient }
        do {
            return try await Self.items(matching: match, in: storage)
        } catch let error as RPCError where error.code == .invalidArgument {
            throw DIMSEFailure(DIMSEStatus.identifierDoesNotMatchSOPClass, error.message)
        }
    }

    /// The stored instances `match` names (QIDO keys at instance level), in series and instance order.
    static func items(matching match: [String: String], in storage: Metis_V1_Storage.Client) async throws -> [Item] {
        let response = try await storage.query(
            .with {
                $0.level = .instance
                $0.match = match
                $0.includeFields = ["AvailableTransferSyntaxUID"]
            })
        return try response.matches.map { match in
            let attributes = try DICOMJSON.decode(Data(match.dicomJson.utf8))
            return Item(
                study: match.studyInstanceUid, series: match.seriesInstanceUid, sopInstance: match.sopInstanceUid,
                sopClass: attributes.string(.sopClassUID) ?? "", transferSyntax: attributes.string(.availableTransferSyntaxUID) ?? "")
        }
    }

    private func failure(_ request: DIMSEMessage, _ error: any Error) -> DIMSEMessage {
        if let failure = error as? DIMSEFailure {
            return request.response(status: failure.status, elements: [.errorComment(failure.comment)])
        }
        logger.warning("retrieve failed", metadata: ["error": "\(error)"])
        return request.response(status: DIMSEStatus.unableToProcess, elements: [.errorComment("\(error)")])
    }
}
