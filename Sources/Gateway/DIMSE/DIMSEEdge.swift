import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProcess
import MetisProto
import NIOSSL

/// The DIMSE edge: who may associate and with which services (A-ASSOCIATE-RQ
/// answered from `dicom_peers`), and each association's requests dispatched,
/// one at a time, to the SCPs. C-CANCEL cancels the operation in progress.
struct DIMSEEdge: Sendable {
    let configuration: DIMSEConfiguration
    let peers: DICOMPeerTable
    let store: StoreSCP
    let find: FindSCP
    let retrieve: RetrieveSCP
    let audit: AuditLog?
    let logger: Logger

    init(
        configuration: DIMSEConfiguration, peers: DICOMPeerTable, storage: Metis_V1_Storage.Client, ingest: IngestPipeline, audit: AuditLog?
    ) {
        let logger = Logger(label: "metis.gateway.dimse")
        self.configuration = configuration
        self.peers = peers
        store = StoreSCP(ingest: ingest, audit: audit, logger: logger)
        find = FindSCP(storage: storage, aeTitle: configuration.aeTitle, audit: audit, logger: logger)
        retrieve = RetrieveSCP(
            storage: storage, aeTitle: configuration.aeTitle, peers: peers, settings: configuration.association, audit: audit,
            logger: logger)
        self.audit = audit
        self.logger = logger
    }

    /// The configured peers, with the client side of DICOM TLS when Metis has a certificate.
    static func peerTable(_ configuration: DIMSEConfiguration, logger: Logger) throws -> DICOMPeerTable {
        let needsTLS = configuration.peers.contains(where: \.tls)
        let client =
            needsTLS || configuration.tls != nil
            ? try DIMSEConnector.clientTLS(
                trust: configuration.tlsTrust, certificate: configuration.tls?.certificate, key: configuration.tls?.privateKey) : nil
        return DICOMPeerTable(configuration.peers, clientTLS: client, logger: logger)
    }

    /// The listeners, lifecycle services: plain TCP on `port`, and TLS (PS3.15 Annex B) on the TLS port when configured.
    func servers() throws -> (plain: DIMSEServer, tls: DIMSEServer?) {
        func server(port: Int, tls: NIOSSLContext?) -> DIMSEServer {
            DIMSEServer(
                host: configuration.host, port: port, settings: configuration.association, tls: tls, logger: logger,
                decide: { request, host in decide(request, from: host) }, serve: { association in await serve(association) })
        }
        var secure: DIMSEServer?
        if let tls = configuration.tls, tls.port != 0 {
            let settings = try ServerTLS.configuration(certificate: tls.certificate, privateKey: tls.privateKey)
            secure = server(port: tls.port, tls: try NIOSSLContext(configuration: settings))
        }
        return (server(port: configuration.port, tls: nil), secure)
    }

    /// Transfer syntaxes a C-STORE data set may arrive in: every one Metis reads.
    static let storageSyntaxes = Set(TransferSyntax.readable.map(\.uid))
    /// Identifiers and commands: Little Endian only.
    static let querySyntaxes = Set(TransferSyntax.nativeLittleEndian.map(\.uid))

    /// The acceptor's answer to an A-ASSOCIATE-RQ from `host`: called AE, calling AE and its host, then the services it may use.
    func decide(_ request: AssociationRequest, from host: String) -> AcceptorPolicy.Answer {
        var services = Set(DICOMPeer.Service.allCases)
        var refusal: String?
        if request.calledAETitle != configuration.aeTitle {
            refusal = "called AE title '\(request.calledAETitle)' is not Metis's ('\(configuration.aeTitle)')"
        } else if let peer = peers.peer(request.callingAETitle) {
            if !peers.isReachable(peer, from: host) {
                refusal = "calling AE '\(request.callingAETitle)' is configured at \(peer.host), not \(host)"
            }
            services = peer.services
        } else if !configuration.acceptUnknown {
            refusal = "calling AE '\(request.callingAETitle)' is not in dicom_peers"
        }
        var syntaxes: [String: Set<String>] = [SOPClass.verification: Self.querySyntaxes]
        if services.contains(.query) { for uid in SOPClass.find { syntaxes[uid] = Self.querySyntaxes } }
        if services.contains(.retrieve) { for uid in SOPClass.move + SOPClass.get { syntaxes[uid] = Self.querySyntaxes } }
        let policy = AcceptorPolicy(
            aeTitle: configuration.aeTitle, syntaxes: syntaxes,
            storageSyntaxes: services.contains(.store) || services.contains(.retrieve) ? Self.storageSyntaxes : nil,
            maximumLength: configuration.association.maximumReceiveLength, implementationClassUID: UID.implementationClass,
            implementationVersionName: UID.implementationVersionName)
        var answer = policy.answer(request)
        if let refusal {
            let reason: UInt8 = request.calledAETitle != configuration.aeTitle ? 7 : 3
            answer = .reject(AssociationReject(result: 1, source: 1, reason: reason))
            logger.warning(
                "association refused",
                metadata: ["dimse.calling_ae": "\(request.callingAETitle)", "dimse.peer": "\(host)", "reason": "\(refusal)"])
        }
        let accepted = if case .accept = answer { true } else { false }
        audit?.record(
            AuditLog.Entry(
                time: AuditLog.timestamp(), action: .associate, method: "DIMSE",
                path: "A-ASSOCIATE \(request.callingAETitle) -> \(request.calledAETitle)", status: accepted ? 0 : 1, token: nil,
                role: "dicom", client: "\(request.callingAETitle)@\(host)"))
        return answer
    }

    /// Reads the association's messages until the peer releases or aborts.
    func serve(_ association: Association) async {
        let router = ResponseRouter()
        let metadata: Logger.Metadata = [
            "dimse.calling_ae": "\(association.negotiated.callingAETitle)", "dimse.peer": "\(association.negotiated.peerHost)",
        ]
        logger.info(
            "association accepted", metadata: metadata.merging(["dimse.contexts": "\(association.negotiated.contexts.count)"]) { $1 })
        var running: (id: UInt16, task: Task<Void, Never>)?
        do {
            for try await message in association.messages {
                guard let field = message.commandField else {
                    logger.warning("message without a known Command Field: aborting", metadata: metadata)
                    await association.abort()
                    break
                }
                if field.rawValue & 0x8000 != 0 {
                    if !router.deliver(message) { logger.warning("unexpected response ignored", metadata: metadata) }
                    continue
                }
                if field == .cCancelRequest {
                    if let running, running.id == message.respondedMessageID { running.task.cancel() }
                    continue
                }
                // One operation at a time (asynchronous operations window 1); a cancel may arrive while it runs.
                await running?.task.value
                let task = Task { await perform(message, field, on: association, router: router) }
                running = (message.messageID ?? 0, task)
            }
        } catch {
            logger.info("association ended", metadata: metadata.merging(["reason": "\(error)"]) { $1 })
        }
        await running?.task.value
        router.finish()
        logger.debug("association released", metadata: metadata)
    }

    private func perform(_ message: DIMSEMessage, _ field: CommandField, on association: Association, router: ResponseRouter) async {
        let response: DIMSEMessage
        switch field {
        case .cEchoRequest: response = message.response(status: DIMSEStatus.success)
        case .cStoreRequest: response = await store.store(message, on: association)
        case .cFindRequest: response = await find.find(message, on: association)
        case .cMoveRequest: response = await retrieve.move(message, on: association)
        case .cGetRequest: response = await retrieve.get(message, on: association, router: router)
        default:
            logger.warning("unsupported DIMSE request: aborting", metadata: ["dimse.command": "\(field)"])
            await association.abort()
            return
        }
        do {
            try await association.send(response)
        } catch {
            logger.info("response not sent", metadata: ["dimse.command": "\(field)", "error": "\(error)"])
        }
    }
}
