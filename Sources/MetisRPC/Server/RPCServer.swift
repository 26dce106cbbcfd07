import Foundation
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle
import NIOSSL
import Synchronization

/// Serves an `RPCRouter` on a Unix socket (or TCP address). A lifecycle
/// `Service`: `run()` listens until graceful shutdown or `shutdown()`, then
/// stops accepting, lets calls in flight finish (up to `drainTimeout`) and
/// closes the connections.
public final class RPCServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// Largest frame accepted; a larger one is answered RESOURCE_EXHAUSTED and its connection closed.
        public var maximumFrameSize = FrameDecoder.defaultMaximumFrameSize
        /// How long a graceful shutdown waits for calls in flight.
        public var drainTimeout: Duration = .seconds(30)
        /// File mode of a Unix socket.
        public var socketMode: UInt32 = 0o660
        /// Run unary handlers with their connection's event loop as task
        /// executor: no thread hop per call, but a handler must then never
        /// block; long computations go to threads of their own. `false` runs
        /// them on the global concurrent executor, as streaming handlers always are.
        public var runsHandlersOnEventLoop = true
        /// On a Unix socket, the user ids whose processes may connect (checked with
        /// SO_PEERCRED when the connection is accepted; others are closed at once).
        /// Default: this process's user and root. nil: any user the socket's mode lets in.
        public var allowedPeerUserIDs: Set<UInt32>? = [getuid(), 0]
        /// Mutual TLS on a TCP address. Required unless the address is loopback:
        /// a server refuses to listen in plain text where other machines can reach it.
        public var transportSecurity: RPCTransportSecurity?

        public init() {}
    }

    private enum State {
        case idle
        case listening(any Channel)
        case stopping
    }

    public let address: RPCAddress
    private let router: RPCRouter
    private let configuration: Configuration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let tracker = CallTracker()
    private let state = Mutex(State.idle)
    private let connections = Mutex([ObjectIdentifier: any Channel]())
    private let listening: EventLoopPromise<SocketAddress?>

    public init(
        address: RPCAddress,
        router: RPCRouter,
        configuration: Configuration = .init(),
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.address = address
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        self.listening = eventLoopGroup.next().makePromise()
    }

    /// The bound address once the server listens (with the real port when 0 was asked).
    public func listeningAddress() async throws -> SocketAddress? {
        try await listening.futureResult.get()
    }

    /// Calls in flight on all connections.
    public var callsInFlight: Int { tracker.inFlight }

    /// True once shutdown began: new calls are refused with UNAVAILABLE.
    public var isShuttingDown: Bool { tracker.isDraining }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            listening.fail(error)
            throw error
        }
        let proceed = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .listening(channel)
            return true
        }
        guard proceed else {
            try? await channel.close()
            listening.fail(RPCError(code: .unavailable, message: "server shut down before it listened"))
            return
        }
        listening.succeed(channel.localAddress)
        logger.info("listening", metadata: ["rpc.address": "\(address)", "rpc.methods": "\(router.routes.count)"])

        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                self.shutdown()
            }
        } onCancel: {
            self.shutdown()
        }
        await drain()
    }

    /// Stops accepting connections and refuses new calls; `run()` then drains and returns.
    public func shutdown() {
        tracker.startDraining()
        let channel = state.withLock { state -> (any Channel)? in
            defer { state = .stopping }
            if case .listening(let channel) = state { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    private func drain() async {
        tracker.startDraining()
        let inFlight = tracker.inFlight
        if inFlight > 0 {
            logger.info("draining calls in flight", metadata: ["rpc.in_flight": "\(inFlight)"])
            let timeout = configuration.drainTimeout
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.tracker.waitUntilIdle() }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        }
        let open = connections.withLock { Array($0.values) }
        for connection in open { try? await connection.close() }
        if case .unix(let path) = address { unlink(path) }
        logger.info("stopped", metadata: ["rpc.address": "\(address)"])
    }

    private func bind() async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { [router, tracker, logger, configuration, address] channel in
                self.track(channel)
                return Self.checkPeer(of: channel, address: address, allowed: configuration.allowedPeerUserIDs, logger: logger)
                    .flatMapThrowing {
                        if case .tcp = address, let security = configuration.transportSecurity {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: security.serverContext))
                        }
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize)),
                            MessageToByteHandler(FrameEncoder()),
                            ServerConnectionHandler(
                                router: router, tracker: tracker, logger: logger,
                                executor: configuration.runsHandlersOnEventLoop ? EventLoopTaskExecutor(eventLoop: channel.eventLoop) : nil),
                        ])
                    }
            }
        switch address {
        case .unix(let path):
            try UnixSocketPath.prepare(path)
            let channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
            guard chmod(path, mode_t(configuration.socketMode)) == 0 else {
                try? await channel.close()
                throw RPCError(code: .internal, message: "cannot set mode of socket \(path): \(String(cString: strerror(errno)))")
            }
            return channel
        case .tcp(let host, let port):
            guard configuration.transportSecurity != nil || address.isLocal else {
                throw RPCError(
                    code: .failedPrecondition,
                    message:
                        "refusing to listen on \(address) in plain text: other machines can reach it; \(RPCTransportSecurity.remedy) or listen on loopback"
                )
            }
            return try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port).get()
        }
    }

    /// The peer's credentials as the kernel reports them (Linux `struct ucred`).
    private struct PeerCredentials: Sendable {
        var pid: Int32
        var uid: UInt32
        var gid: UInt32
    }

    /// Succeeds when a Unix-socket peer's uid is allowed; fails (closing the connection) otherwise.
    private static func checkPeer(
        of channel: any Channel, address: RPCAddress, allowed: Set<UInt32>?, logger: Logger
    ) -> EventLoopFuture<Void> {
        guard case .unix = address, let allowed else { return channel.eventLoop.makeSucceededVoidFuture() }
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(RPCError(code: .permissionDenied, message: "peer credentials unavailable"))
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMapThrowing { peer in
            guard allowed.contains(peer.uid) else {
                logger.warning(
                    "connection refused: peer user not allowed", metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)"])
                throw RPCError(code: .permissionDenied, message: "user \(peer.uid) may not connect")
            }
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            _ = self.connections.withLock { $0.removeValue(forKey: id) }
        }
    }
}
