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
        let ingest = IngestPipeline(storage: storage)
        let ingestServer = configuration.ingestAddress.map { address in
            var router = RPCRouter()
            router.register(IngestRPCService(ingest: ingest, audit: configuration.audit))
            var settings = RPCServer.Configuration()
            settings.socketMode = 0o600
            settings.runsHandlersOnEventLoop = false
            return RPCServer(address: address, router: router, configuration: settings, logger: Logger(label: "metis.gateway.ingest"))
        }
        let dimse = configuration.dicom.map {
            ($0, DIMSEEdge(configuration: $0, storage: storage, ingest: ingest, audit: configuration.audit).server())
        }
        router.get("/healthz") { _, _ -> EditedResponse<HealthReport> in
            var report = await HealthReport.collect(clients: clients, timeout: configuration.healthTimeout, version: configuration.version)
            if let (settings, server) = dimse {
                let bound = server.boundPort()
                report.dimse = HealthReport.DIMSEHealth(
                    status: bound == nil ? "NOT_LISTENING" : "LISTENING",
                    address: "\(settings.aeTitle)@\(settings.host):\(bound ?? settings.port)",
                    associations: server.openAssociations)
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
        SegmentationJobRoutes(workflow: segmentation).register(on: router)
        var server = HTTPServerBuilder.http1()
        if let tls = configuration.tls {
            let certificates: [NIOSSLCertificate]
            let key: NIOSSLPrivateKey
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate)
                key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
            } catch {
                throw GatewayError.tls("cannot read the TLS certificate \(tls.certificate) or key \(tls.privateKey): \(error)")
            }
            var settings = TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
            settings.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(), tlsConfiguration: settings)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "metis-gateway"),
            services: [ClientShutdown(clients: clients)] + (dimse.map { [$0.1] } ?? []) + (ingestServer.map { [$0] } ?? []),
            logger: logger
        )
    }
}

/// Why the gateway cannot start.
public enum GatewayError: Error, CustomStringConvertible {
    case tls(String)

    public var description: String {
        switch self {
        case .tls(let message): message
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
