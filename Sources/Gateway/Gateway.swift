import Foundation
public import Hummingbird
public import Logging
import DICOMNetwork
import MetisProto
import MetisRPC
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Segmentation
import SegmentationWorkflow
import SwiftProtobuf
import ServiceLifecycle

/// Builds metis-gateway: the HTTP application (a lifecycle `Service`) that
/// serves the public routes and talks to the services over RPC.
public enum Gateway {
    public static func build(configuration: GatewayConfiguration, logger: Logger) throws -> some ApplicationProtocol {
        let clients = ServiceClients(configuration: configuration, logger: logger)
        let metrics = GatewayMetrics()
        let router = Router(context: GatewayRequestContext.self)
        // Outermost, so that every answer carries it, errors included (JSONErrorMiddleware makes those responses).
        if configuration.tls != nil { router.add(middleware: StrictTransportSecurityMiddleware()) }
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: RequestLimitsMiddleware())
        router.add(
            middleware: CORSMiddleware(
                allowOrigin: .all, allowHeaders: [.accept, .contentType, .authorization, .origin],
                allowMethods: [.get, .head, .post, .delete, .options],
                exposedHeaders: ["Content-Type", "Content-Length", "Content-Location", "Location", "ETag", "Content-Disposition"],
                maxAge: .seconds(3600)))
        router.add(middleware: AuthenticationMiddleware(tokens: configuration.tokens, audit: configuration.audit))
        WebApplication.load().register(on: router) { _ in
            (try? JSONBody.response(ServiceIndex(name: "Metis", version: configuration.version, health: "/healthz", metrics: "/metrics")))
                ?? Response(status: .internalServerError)
        }
        SessionRoute(tokens: configuration.tokens).register(on: router)
        let storage = Metis_V1_Storage.Client(clients.storage)
        let arrivals = try configuration.arrivals.map { settings in
            do {
                return try ArrivalMonitor(settings: settings, storage: storage, logger: Logger(label: "metis.gateway.arrivals"))
            } catch {
                throw GatewayError.arrivals("cannot read the arrival queue \(settings.file.path): \(error)")
            }
        }
        var ingest = IngestPipeline(storage: storage)
        ingest.arrivals = arrivals
        let dimseLogger = Logger(label: "metis.gateway.dimse")
        let peerTable: DICOMPeerTable?
        let dimse: (settings: DIMSEConfiguration, servers: (plain: DIMSEServer, tls: DIMSEServer?))?
        do {
            peerTable = try configuration.dicom.map { try DIMSEEdge.peerTable($0, logger: dimseLogger) }
            dimse = try configuration.dicom.map { settings in
                (
                    settings,
                    try DIMSEEdge(configuration: settings, peers: peerTable!, storage: storage, ingest: ingest, audit: configuration.audit)
                        .servers()
                )
            }
        } catch {
            throw GatewayError.tls("cannot set up DICOM over TLS: \(error)")
        }
        // The gateway's own socket: the Ingest RPC (`metis import`) and a Health service reporting the DIMSE edge (`metis-probe`).
        let ingestServer = configuration.ingestAddress.map { address in
            var router = RPCRouter()
            router.register(IngestRPCService(ingest: ingest, audit: configuration.audit))
            router.register(
                HealthService(component: "metis-gateway", version: configuration.version) {
                    guard let (settings, servers) = dimse else { return (true, ["dimse": "off"]) }
                    let bound = servers.plain.boundPort()
                    var details = [
                        "dimse": bound == nil ? "NOT_LISTENING" : "LISTENING",
                        "dimse_address": "\(settings.aeTitle)@\(settings.host):\(bound ?? settings.port)",
                        "dimse_associations": String(servers.plain.openAssociations + (servers.tls?.openAssociations ?? 0)),
                    ]
                    if let tls = servers.tls {
                        details["dimse_tls_address"] = "\(settings.aeTitle)@\(settings.host):\(tls.boundPort() ?? 0)"
                    }
                    return (bound != nil, details)
                })
            var settings = RPCServer.Configuration()
            settings.socketMode = 0o600
            settings.runsHandlersOnEventLoop = false
            return RPCServer(address: address, router: router, configuration: settings, logger: Logger(label: "metis.gateway.ingest"))
        }
        router.get("/healthz") { _, _ -> EditedResponse<HealthReport> in
            var report = await HealthReport.collect(clients: clients, timeout: configuration.healthTimeout, version: configuration.version)
            if let (settings, servers) = dimse {
                let bound = servers.plain.boundPort()
                report.dimse = HealthReport.DIMSEHealth(
                    status: bound == nil ? "NOT_LISTENING" : "LISTENING",
                    address: "\(settings.aeTitle)@\(settings.host):\(bound ?? settings.port)",
                    tlsAddress: servers.tls.map { "\(settings.aeTitle)@\(settings.host):\($0.boundPort() ?? settings.tls?.port ?? 0)" },
                    associations: servers.plain.openAssociations + (servers.tls?.openAssociations ?? 0))
            }
            return EditedResponse(status: report.allServing ? .ok : .serviceUnavailable, response: report)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        QIDORoutes(storage: storage).register(on: router)
        WADORoutes(storage: storage).register(on: router)
        RenderedRoutes(storage: storage).register(on: router)
        let followUp = FollowUpRecorder(
            tracking: Metis_V1_Tracking.Client(clients.tracking), outbox: configuration.followUpOutbox,
            logger: Logger(label: "metis.gateway.follow-up"),
            studyIsStored: { study in
                !(try await storage.query(
                    .with {
                        $0.level = .study
                        $0.studyInstanceUid = study
                        $0.limit = 1
                    })).matches.isEmpty
            })
        Task { await followUp.resume() }
        STOWRoutes(storage: storage, ingest: ingest, followUp: followUp, maximumBodySize: configuration.maximumUploadSize).register(
            on: router)
        OriginalRoutes(storage: storage, ingest: ingest, followUp: followUp, maximumBodySize: configuration.maximumUploadSize).register(
            on: router)
        let storagePorts = StorageSegmentationPorts(storage: storage)
        let segmentation = SegmentationWorkflow(
            source: storagePorts, runner: WorkerSegmentationRunner(inference: Metis_V1_Inference.Client(clients.inference)),
            results: storagePorts, recorder: followUp, maximumSeriesSize: configuration.maximumSeriesSize,
            sequenceNames: configuration.sequenceNames.compactMapValues(SeriesChoice.Sequence.init(rawValue:)),
            logger: Logger(label: "metis.gateway.segmentation"))
        SegmentationRoutes(workflow: segmentation).register(on: router)
        FollowUpRoutes(tracking: Metis_V1_Tracking.Client(clients.tracking)).register(on: router)
        let segmentationJobs = SegmentationJobs()
        SegmentationJobRoutes(workflow: segmentation, jobs: segmentationJobs).register(on: router)
        if let dicom = configuration.dicom, let peerTable {
            RemoteRoutes(
                remote: RemoteQueryRetrieve(aeTitle: dicom.aeTitle, peers: peerTable, settings: dicom.association, logger: dimseLogger)
            ).register(on: router)
        }
        let arrivalWorker = arrivals.map { monitor in
            let logger = Logger(label: "metis.gateway.arrivals")
            let sender = PeerSender(
                storage: storage, aeTitle: monitor.settings.aeTitle,
                peers: peerTable ?? DICOMPeerTable(monitor.settings.peers, logger: logger),
                settings: configuration.dicom?.association ?? AssociationSettings(), audit: configuration.audit, logger: logger)
            ArrivalRoutes(monitor: monitor).register(on: router)
            return ArrivalWorker(monitor: monitor, segmentation: segmentation, jobs: segmentationJobs, sender: sender, logger: logger)
        }
        var server = HTTPServerBuilder.http1()
        if let tls = configuration.tls {
            server = try .tls(
                .http1(), tlsConfiguration: try ServerTLS.configuration(certificate: tls.certificate, privateKey: tls.privateKey))
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "metis-gateway"),
            services: [ClientShutdown(clients: clients)] + (dimse.map { [$0.servers.plain] + ($0.servers.tls.map { [$0] } ?? []) } ?? [])
                + (ingestServer.map { [$0] } ?? [])
                + (arrivalWorker.map { [$0] } ?? []),
            logger: logger
        )
    }
}

/// Why the gateway cannot start.
public enum GatewayError: Error, CustomStringConvertible {
    case tls(String)
    case arrivals(String)

    public var description: String {
        switch self {
        case .tls(let message), .arrivals(let message): message
        }
    }
}

/// HTTPS only: browsers are told to keep to it for a year.
struct StrictTransportSecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        return response
    }
}

/// What `GET /` answers: where to look next.
struct ServiceIndex: Encodable, Sendable {
    var name: String
    var version: String
    var health: String
    var metrics: String
}
