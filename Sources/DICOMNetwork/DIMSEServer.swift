public import DIMSE
import Foundation
public import Logging
public import NIOCore
public import NIOPosix
public import NIOSSL
public import ServiceLifecycle
import Synchronization

/// Listens for DICOM associations on a TCP port. A lifecycle `Service`: `run()`
/// accepts until graceful shutdown, then stops accepting, lets associations in
/// progress finish (up to `drainTimeout`) and aborts the rest.
///
/// Each A-ASSOCIATE-RQ is answered by `decide(request, peer host)`; each
/// accepted association is given to `serve`, in a task of its own; when `serve`
/// returns after the peer's A-RELEASE-RQ, the release is answered. With `tls`,
/// every connection speaks TLS first (PS3.15 Annex B).
public final class DIMSEServer: Service, Sendable {
    public typealias Decide = @Sendable (AssociationRequest, String) -> AcceptorPolicy.Answer
    public typealias Serve = @Sendable (Association) async -> Void

    private let host: String
    private let port: Int
    private let settings: AssociationSettings
    private let decide: Decide
    private let serve: Serve
    private let logger: Logger
    private let group: any EventLoopGroup
    private let drainTimeout: Duration
    private let channel = Mutex<(any Channel)?>(nil)
    private let associations = Mutex([ObjectIdentifier: Association]())
    private let listening: EventLoopPromise<SocketAddress?>
    private let tls: NIOSSLContext?

    public init(
        host: String, port: Int, settings: AssociationSettings = .init(), tls: NIOSSLContext? = nil, drainTimeout: Duration = .seconds(10),
        logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, decide: @escaping Decide,
        serve: @escaping Serve
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.settings = settings
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.group = eventLoopGroup
        self.decide = decide
        self.serve = serve
        listening = eventLoopGroup.next().makePromise()
    }

    /// The bound address once listening (the real port when 0 was asked).
    public func listeningAddress() async throws -> SocketAddress? { try await listening.futureResult.get() }

    /// The bound port once listening; nil before (or when binding failed).
    public func boundPort() -> Int? {
        channel.withLock { $0 }?.localAddress?.port
    }

    /// Associations open now.
    public var openAssociations: Int { associations.withLock { $0.count } }

    public func run() async throws {
        let server: any Channel
        do {
            server = try await bind()
        } catch {
            listening.fail(error)
            throw error
        }
        channel.withLock { $0 = server }
        listening.succeed(server.localAddress)
        logger.info("DIMSE listening", metadata: ["dimse.address": "\(host):\(server.localAddress?.port ?? port)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await server.closeFuture.get()
            } onGracefulShutdown: {
                self.shutdown()
            }
        } onCancel: {
            self.shutdown()
        }
        await drain()
    }

    /// Stops accepting associations; `run()` then drains and returns.
    public func shutdown() {
        channel.withLock { $0 }?.close(promise: nil)
    }

    private func drain() async {
        let deadline = ContinuousClock.now + drainTimeout
        while openAssociations > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        let left = associations.withLock { Array($0.values) }
        if !left.isEmpty { logger.warning("aborting associations at shutdown", metadata: ["dimse.associations": "\(left.count)"]) }
        for association in left { await association.abort() }
        logger.info("DIMSE stopped")
    }

    private func bind() async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [settings, logger, decide, tls] channel in
                let accepted: @Sendable (Association) -> Void = { association in self.start(association) }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(PDUFrameDecoder(maximumDataLength: settings.maximumReceiveLength)),
                        AssociationHandler(role: .acceptor(decide: decide, accepted: accepted), settings: settings, logger: logger),
                    ])
                }
            }
        return try await bootstrap.bind(host: host, port: port).get()
    }

    private func start(_ association: Association) {
        let key = ObjectIdentifier(association)
        associations.withLock { $0[key] = association }
        Task {
            await serve(association)
            await association.acceptRelease()
            await association.closed()
            associations.withLock { $0[key] = nil }
        }
    }
}

/// Opens associations to other AEs.
public enum DIMSEConnector {
    /// The client side of DICOM TLS: the peer's certificate verified against `trust` (PEM) or the system's
    /// roots, and `certificate` and `key` (PEM) offered when the peer asks for one.
    public static func clientTLS(trust: String?, certificate: String?, key: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trust { configuration.trustRoots = .file(trust) }
        if let certificate, let key {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Connects to `host:port` (over TLS with `tls`, checking the certificate names `host`) and proposes
    /// `request`; the association once accepted.
    /// Throws `AssociationError.rejected` with the peer's reasons, or why no association was set up.
    public static func associate(
        host: String, port: Int, request: AssociationRequest, settings: AssociationSettings = .init(), tls: NIOSSLContext? = nil,
        logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Association {
        let loop = eventLoopGroup.next()
        let established = loop.makePromise(of: Association.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.init(settings.artimTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // An IP address is checked against the certificate's IP entries; SNI carries host names only.
                        let name = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(PDUFrameDecoder(maximumDataLength: settings.maximumReceiveLength)),
                        AssociationHandler(
                            role: .requestor(request: request, established: established), settings: settings, logger: logger),
                    ])
                }
            }
        do {
            _ = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            established.fail(AssociationError.connectionFailed("\(host):\(port): \(error)"))
            throw AssociationError.connectionFailed("\(host):\(port): \(error)")
        }
        return try await established.futureResult.get()
    }
}
