import Foundation
public import Hummingbird
public import Logging
import MetisProto
import MetisRPC

/// Builds metis-gateway: the HTTP application (a lifecycle `Service`) that
/// serves the public routes and talks to the services over RPC.
public enum Gateway {
    public static func build(configuration: GatewayConfiguration, logger: Logger) -> some ApplicationProtocol {
        let clients = ServiceClients(configuration: configuration, logger: logger)
        let metrics = GatewayMetrics()
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: CORSMiddleware(
            allowOrigin: .all, allowHeaders: [.accept, .contentType, .authorization, .origin],
            allowMethods: [.get, .head, .post, .delete, .options],
            exposedHeaders: ["Content-Type", "Content-Length", "Content-Location", "Location", "ETag", "Content-Disposition"], maxAge: .seconds(3600)))
        router.add(middleware: AuthenticationMiddleware(tokens: configuration.tokens, audit: configuration.audit))
        WebApplication.load().register(on: router) { _ in
            (try? JSONBody.response(ServiceIndex(name: "Metis", version: configuration.version, health: "/healthz", metrics: "/metrics")))
                ?? Response(status: .internalServerError)
        }
        SessionRoute(tokens: configuration.tokens).register(on: router)
        router.get("/healthz") { _, _ -> EditedResponse<HealthReport> in
            let report = await HealthReport.collect(clients: clients, timeout: configuration.healthTimeout, version: configuration.version)
            return EditedResponse(status: report.allServing ? .ok : .serviceUnavailable, response: report)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        let storage = Metis_V1_Storage.Client(clients.storage)
        let uploader = InstanceUploader(storage: storage)
        QIDORoutes(storage: storage).register(on: router)
        WADORoutes(storage: storage).register(on: router)
        RenderedRoutes(storage: storage).register(on: router)
        let followUp = FollowUpRecorder(
            tracking: Metis_V1_Tracking.Client(clients.tracking), outbox: configuration.followUpOutbox,
            logger: Logger(label: "metis.gateway.follow-up"))
        Task { await followUp.resume() }
        STOWRoutes(storage: storage, uploader: uploader, followUp: followUp, maximumBodySize: configuration.maximumUploadSize).register(on: router)
        OriginalRoutes(storage: storage, uploader: uploader, followUp: followUp, maximumBodySize: configuration.maximumUploadSize).register(on: router)
        let segmentation = SegmentationRoutes(
            storage: storage, inference: Metis_V1_Inference.Client(clients.inference), followUp: followUp,
            maximumSeriesSize: configuration.maximumSeriesSize)
        segmentation.register(on: router)
        FollowUpRoutes(tracking: Metis_V1_Tracking.Client(clients.tracking)).register(on: router)
        SegmentationJobRoutes(routes: segmentation).register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "metis-gateway"),
            services: [ClientShutdown(clients: clients)],
            logger: logger
        )
    }
}

/// What `GET /` answers: where to look next.
struct ServiceIndex: Encodable, Sendable {
    var name: String
    var version: String
    var health: String
    var metrics: String
}
