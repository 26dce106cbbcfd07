import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Hummingbird
import Logging
import MetisProcess

/// Query/retrieve at a configured PACS for the follow-up of a patient whose
/// earlier studies are only there: C-FIND at the peer, and C-MOVE from the
/// peer to Metis itself (the instances then arrive as C-STOREs, through the
/// ingest pipeline). `POST /api/v1/remote/{ae}/query|retrieve` call it.
struct RemoteQueryRetrieve: Sendable {
    let aeTitle: String
    let peers: DICOMPeerTable
    let settings: AssociationSettings
    let logger: Logger

    /// What the routes take: a level, the information model and the keys.
    struct Request: Decodable, Sendable {
        var level: String
        /// study (default) or patient.
        var root: String?
        /// Keyword → value to match, or "" to be returned.
        var keys: [String: String]
    }

    /// What a retrieve did (PS3.4 C.4.2.1.4's counts).
    struct RetrieveReport: Encodable, Sendable {
        var status: String
        var completed: Int
        var failed: Int
        var warning: Int
        var errorComment: String?
    }

    /// The matches, as DICOM JSON objects.
    func query(_ request: Request, at destination: String) async throws -> [JSONValue] {
        let peer = try self.peer(destination, needs: .query)
        let sopClass = try Self.sopClass(SOPClass.find, root: request.root)
        let identifier = try Self.identifier(request)
        let client = try await connect(to: peer, sopClass: sopClass)
        var matches = [JSONValue]()
        let final: DIMSEMessage
        do {
            final = try await client.find(sopClassUID: sopClass, identifier: identifier) { matches.append(DICOMJSON.encode($0)) }
            try? await client.release()
        } catch {
            try? await client.release()
            throw HTTPError(.badGateway, message: "\(peer.aeTitle): C-FIND failed: \(error)")
        }
        let status = final.status ?? 0xFFFF
        guard DIMSEStatus.kind(status) != "Failure" else {
            throw HTTPError(
                .badGateway,
                message: "\(peer.aeTitle) answered C-FIND with \(String(format: "0x%04X", status))"
                    + (final.command.string(.errorComment).map { ": \($0)" } ?? ""))
        }
        return matches
    }

    /// Asks the peer to send what the keys name to Metis; answers once the peer's C-MOVE is done.
    func retrieve(_ request: Request, from destination: String) async throws -> RetrieveReport {
        let peer = try self.peer(destination, needs: .retrieve)
        guard peer.services.contains(.store) else {
            throw HTTPError(
                .unprocessableContent,
                message: "\(peer.aeTitle) has no store service in dicom_peers: Metis would refuse the instances it sends (add /…+store)")
        }
        let sopClass = try Self.sopClass(SOPClass.move, root: request.root)
        let identifier = try Self.identifier(request)
        let client = try await connect(to: peer, sopClass: sopClass)
        let final: DIMSEMessage
        do {
            final = try await client.move(sopClassUID: sopClass, destination: aeTitle, identifier: identifier)
            try? await client.release()
        } catch {
            try? await client.release()
            throw HTTPError(.badGateway, message: "\(peer.aeTitle): C-MOVE failed: \(error)")
        }
        let status = final.status ?? 0xFFFF
        let report = RetrieveReport(
            status: String(format: "0x%04X", status) + " (\(DIMSEStatus.kind(status)))",
            completed: final.command.int(.numberOfCompletedSuboperations) ?? 0,
            failed: final.command.int(.numberOfFailedSuboperations) ?? 0,
            warning: final.command.int(.numberOfWarningSuboperations) ?? 0, errorComment: final.command.string(.errorComment))
        if DIMSEStatus.kind(status) == "Failure" && report.completed == 0 {
            throw HTTPError(
                .badGateway,
                message: "\(peer.aeTitle) answered C-MOVE with \(report.status)" + (report.errorComment.map { ": \($0)" } ?? ""))
        }
        return report
    }

    private func peer(_ aeTitle: String, needs service: DICOMPeer.Service) throws -> DICOMPeer {
        guard let peer = peers.peer(aeTitle) else {
            throw HTTPError(.notFound, message: "'\(aeTitle)' is not in dicom_peers")
        }
        guard peer.services.contains(service) else {
            throw HTTPError(.unprocessableContent, message: "\(aeTitle) has no \(service.rawValue) service in dicom_peers")
        }
        return peer
    }

    private func connect(to peer: DICOMPeer, sopClass: String) async throws -> DIMSEClient {
        let request = AssociationRequest(
            calledAETitle: peer.aeTitle, callingAETitle: aeTitle,
            presentationContexts: [
                ProposedContext(id: 1, abstractSyntax: sopClass, transferSyntaxes: TransferSyntax.nativeLittleEndian.map(\.uid))
            ],
            userInformation: UserInformation(
                maximumLength: settings.maximumReceiveLength, implementationClassUID: UID.implementationClass,
                implementationVersionName: UID.implementationVersionName))
        do {
            return DIMSEClient(
                try await peers.associate(peer, request: request, settings: settings, logger: logger))
        } catch {
            throw HTTPError(.badGateway, message: "\(peer.aeTitle) at \(peer.host):\(peer.port): \(error)")
        }
    }

    private static func sopClass(_ classes: [String], root: String?) throws -> String {
        switch (root ?? "study").lowercased() {
        case "study": return classes[1]
        case "patient": return classes[0]
        default: throw HTTPError(.badRequest, message: "root is study or patient, not '\(root ?? "")'")
        }
    }

    private static func identifier(_ request: Request) throws -> Dataset {
        do {
            return try QueryIdentifier.make(level: request.level, keys: request.keys.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        } catch {
            throw HTTPError(.badRequest, message: error.description)
        }
    }
}

/// `POST /api/v1/remote/{ae}/query` and `/retrieve` (role clinician): the body
/// is `{"level": "STUDY", "root"?: "study", "keys": {"PatientID": "123", "StudyDate": ""}}`.
struct RemoteRoutes: Sendable {
    let remote: RemoteQueryRetrieve

    func register(on router: Router<some RequestContext>) {
        router.post("/api/v1/remote/:ae/query") { request, context -> Response in
            let body = try await Self.body(request)
            let matches = try await remote.query(body, at: try context.parameters.require("ae"))
            return DICOMJSONResponse.array(matches.map(\.jsonText))
        }
        router.post("/api/v1/remote/:ae/retrieve") { request, context -> Response in
            let body = try await Self.body(request)
            return try JSONBody.response(try await remote.retrieve(body, from: try context.parameters.require("ae")))
        }
    }

    private static func body(_ request: Request) async throws -> RemoteQueryRetrieve.Request {
        let data = try await collectBody(request, limit: 64 << 10)
        do {
            return try JSONDecoder().decode(RemoteQueryRetrieve.Request.self, from: data)
        } catch {
            throw HTTPError(
                .badRequest,
                message: "the body must be JSON {\"level\": \"STUDY\", \"root\"?: \"study\", \"keys\": {\"PatientID\": \"…\"}}: \(error)")
        }
    }
}
