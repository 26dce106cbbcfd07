public import Foundation
public import Logging
public import NIOCore
public import NIOPosix
import NIOSSL
import Synchronization

/// A client connection to one service address. Many calls share it at once
/// (multiplexed by request id); it connects on first use and reconnects after
/// the server goes away, with exponential back-off between failed attempts.
public final class RPCConnection: RPCCaller, Sendable {
    public struct Configuration: Sendable {
        /// Largest response frame accepted.
        public var maximumFrameSize = FrameDecoder.defaultMaximumFrameSize
        public var backoff = Backoff()
        public var connectTimeout: Duration = .seconds(5)
        /// Mutual TLS on a TCP address. Required unless the address is loopback:
        /// a call never goes in plain text to another machine.
        public var transportSecurity: RPCTransportSecurity?

        public init() {}
    }

    private enum State {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case ready(any Channel)
        /// The last attempt failed; the next one waits until `retryAt`.
        case backingOff(retryAt: ContinuousClock.Instant, delay: Duration, error: any Error)
        case closed
    }

    public let address: RPCAddress
    private let configuration: Configuration
    /// Every channel of this connection lives on this loop.
    private let eventLoop: any EventLoop
    private let executor: EventLoopTaskExecutor
    private let logger: Logger
    private let state = Mutex(State.idle)
    private let nextRequestID = Atomic<UInt64>(0)
    private let callsInFlight = Atomic<Int>(0)

    /// Why no call may go to this address: plain TCP to another machine. Not
    /// a connection failure to retry, so every call fails with it at once.
    private var plainTextRefusal: RPCError? {
        guard !address.isLocal, configuration.transportSecurity == nil else { return nil }
        return RPCError(
            code: .failedPrecondition,
            message: "refusing to call \(address) in plain text: it is not on this machine; \(RPCTransportSecurity.remedy)")
    }

    public init(
        address: RPCAddress,
        configuration: Configuration = .init(),
        logger: Logger = Logger(label: "metis.rpc.client"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.address = address
        self.configuration = configuration
        self.eventLoop = eventLoopGroup.next()
        self.executor = EventLoopTaskExecutor(eventLoop: eventLoop)
        self.logger = logger
    }

    /// The connection's event loop as a task executor. A caller that makes
    /// many calls in a row can run them under
    /// `withTaskExecutorPreference(connection.taskExecutor)` to save the two
    /// thread hops per call between its task and the connection.
    public var taskExecutor: any TaskExecutor { executor }

    /// Calls started on this connection and not finished yet.
    public var inFlight: Int { callsInFlight.load(ordering: .relaxed) }

    /// Whether a call now would not fail at once for lack of a connection.
    public var isAvailable: Bool {
        state.withLock { state in
            switch state {
            case .idle, .connecting, .ready: true
            case .backingOff(let retryAt, _, _): retryAt <= .now
            case .closed: false
            }
        }
    }

    /// Closes the connection; later calls fail with UNAVAILABLE.
    public func close() async {
        let channel = state.withLock { state -> (any Channel)? in
            defer { state = .closed }
            if case .ready(let channel) = state { return channel }
            return nil
        }
        try? await channel?.close()
    }

    public func call(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        let start = ContinuousClock.now
        // A request that never left this process (the connection broke just
        // before it was written) is sent once more, on a new connection.
        do {
            return try await attempt(method, payload: payload, options: options, start: start)
        } catch let error as RPCError where error.neverSent {
            return try await attempt(method, payload: payload, options: options, start: start)
        }
    }

    private func attempt(
        _ method: MethodDescriptor, payload: Data, options: CallOptions, start: ContinuousClock.Instant
    ) async throws -> Data {
        let channel = try await readyChannel(options: options, start: start)
        let id = nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        let frame = requestFrame(id: id, method: method, payload: payload, options: options, start: start)
        callsInFlight.add(1, ordering: .relaxed)
        defer { callsInFlight.subtract(1, ordering: .relaxed) }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let call = PendingCall(frame: frame, responder: .unary(continuation), timeout: remaining(options, since: start))
                let accepted = channel.eventLoop.makePromise(of: Void.self)
                accepted.futureResult.whenFailure { error in
                    continuation.resume(
                        throwing: RPCError(
                            code: .unavailable, message: "\(self.address): connection closed", cause: NotConnected(reason: error)))
                }
                channel.writeAndFlush(ClientRequest.start(call), promise: accepted)
            }
        } onCancel: {
            channel.writeAndFlush(
                ClientRequest.cancel(requestID: id, error: RPCError(code: .cancelled, message: "call cancelled")), promise: nil)
        }
    }

    public func stream(_ method: MethodDescriptor, payload: Data, options: CallOptions) -> AsyncThrowingStream<Data, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
        let id = nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        let start = ContinuousClock.now
        // Whether the call went out (on which channel), or the consumer already stopped:
        // a call is started only while the stream is alive, and then always cancelled with it.
        let sent = StreamCallState()
        let task = Task {
            do {
                let channel = try await readyChannel(options: options, start: start)
                let frame = requestFrame(id: id, method: method, payload: payload, options: options, start: start)
                let alive = sent.state.withLock { state -> Bool in
                    guard !state.terminated else { return false }
                    state.channel = channel
                    return true
                }
                guard alive else { return }
                callsInFlight.add(1, ordering: .relaxed)
                let call = PendingCall(frame: frame, responder: .stream(continuation), timeout: remaining(options, since: start))
                let accepted = channel.eventLoop.makePromise(of: Void.self)
                accepted.futureResult.whenFailure { error in
                    continuation.finish(
                        throwing: RPCError(
                            code: .unavailable, message: "\(self.address): connection closed", cause: NotConnected(reason: error)))
                }
                channel.writeAndFlush(ClientRequest.start(call), promise: accepted)
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { [weak self] termination in
            task.cancel()
            let channel = sent.state.withLock { state -> (any Channel)? in
                state.terminated = true
                return state.channel
            }
            guard let channel else { return }
            self?.callsInFlight.subtract(1, ordering: .relaxed)
            if case .cancelled = termination {
                let error = RPCError(code: .cancelled, message: "stream cancelled by the caller")
                channel.writeAndFlush(ClientRequest.cancel(requestID: id, error: error), promise: nil)
            }
        }
        return stream
    }

    private func requestFrame(
        id: UInt64, method: MethodDescriptor, payload: Data, options: CallOptions, start: ContinuousClock.Instant
    ) -> Metis_V1_Frame {
        var frame = Metis_V1_Frame()
        frame.requestID = id
        frame.kind = .request
        frame.method = method.fullName
        frame.payload = payload
        frame.metadata = options.metadata
        if let left = remaining(options, since: start) {
            let (seconds, attoseconds) = left.components
            frame.timeoutMicros = UInt64(max(1, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        }
        return frame
    }

    private func remaining(_ options: CallOptions, since start: ContinuousClock.Instant) -> Duration? {
        guard let timeout = options.timeout else { return nil }
        return max(.microseconds(1), timeout - start.duration(to: .now))
    }

    // MARK: Connection state

    private enum Step {
        case use(any Channel)
        case await(EventLoopFuture<any Channel>)
        case connect(previousDelay: Duration?)
        case wait(until: ContinuousClock.Instant, error: any Error)
        case fail(RPCError)
    }

    private func readyChannel(options: CallOptions, start: ContinuousClock.Instant) async throws -> any Channel {
        if let refusal = plainTextRefusal { throw refusal }
        let deadline = options.timeout.map { start + $0 }
        while true {
            if Task.isCancelled { throw RPCError(code: .cancelled, message: "call cancelled before it was sent") }
            let step = state.withLock { state -> Step in
                switch state {
                case .ready(let channel) where channel.isActive:
                    return .use(channel)
                case .ready, .idle:
                    return .connect(previousDelay: nil)
                case .connecting(let future):
                    return .await(future)
                case .backingOff(let retryAt, let delay, let error):
                    return retryAt <= .now ? .connect(previousDelay: delay) : .wait(until: retryAt, error: error)
                case .closed:
                    return .fail(
                        RPCError(
                            code: .unavailable, message: "\(address): connection closed by its owner", cause: NotConnected(reason: nil)))
                }
            }
            switch step {
            case .use(let channel):
                return channel
            case .await(let future):
                _ = try? await future.get()
            case .connect(let previousDelay):
                startConnecting(previousDelay: previousDelay)
            case .wait(let retryAt, let error):
                guard options.waitForReady, deadline.map({ retryAt < $0 }) ?? true else {
                    throw RPCError(code: .unavailable, message: "\(address) unavailable: \(error)", cause: NotConnected(reason: error))
                }
                try await Task.sleep(until: retryAt, clock: .continuous)
            case .fail(let error):
                throw error
            }
            if let deadline, deadline <= .now {
                throw RPCError(code: .deadlineExceeded, message: "deadline exceeded while connecting to \(address)")
            }
        }
    }

    private func startConnecting(previousDelay: Duration?) {
        let future = state.withLock { state -> EventLoopFuture<any Channel>? in
            switch state {
            case .idle, .ready, .backingOff:
                let future = makeChannel()
                state = .connecting(future)
                return future
            case .connecting, .closed:
                return nil
            }
        }
        future?.whenComplete { result in
            let (stale, ready) = self.state.withLock { state -> (stale: (any Channel)?, ready: (any Channel)?) in
                switch result {
                case .success(let channel):
                    guard case .connecting = state else { return (channel, nil) }
                    state = .ready(channel)
                    return (nil, channel)
                case .failure(let error):
                    guard case .connecting = state else { return (nil, nil) }
                    let delay = self.configuration.backoff.delay(after: previousDelay)
                    state = .backingOff(retryAt: .now + delay, delay: delay, error: error)
                    return (nil, nil)
                }
            }
            // Outside the lock: a channel that already closed runs this callback at once.
            ready?.closeFuture.whenComplete { _ in
                self.state.withLock { state in
                    if case .ready(let current) = state, current === ready { state = .idle }
                }
            }
            stale?.close(promise: nil)
            if case .failure(let error) = result {
                self.logger.debug("connect failed", metadata: ["rpc.address": "\(self.address)", "error": "\(error)"])
            }
        }
    }

    private func makeChannel() -> EventLoopFuture<any Channel> {
        let address = address
        let maximumFrameSize = configuration.maximumFrameSize
        var security: (context: NIOSSLContext, hostname: String?)?
        if case .tcp(let host, _) = address, let transportSecurity = configuration.transportSecurity {
            security = (transportSecurity.clientContext, RPCTransportSecurity.serverHostname(host))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { [security] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let security {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: security.context, serverHostname: security.hostname))
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder(maximumFrameSize: maximumFrameSize)),
                        MessageToByteHandler(FrameEncoder()),
                        ClientConnectionHandler(address: address),
                    ])
                }
            }
        switch address {
        case .unix(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        case .tcp(let host, let port):
            return bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1).connect(host: host, port: port)
        }
    }
}

/// The cause of an UNAVAILABLE error raised before the request was sent: the
/// call never reached the server, so trying another instance is safe.
public struct NotConnected: Error, Sendable {
    public let reason: (any Error)?
}

extension RPCError {
    /// True when the call failed before its request left this process.
    public var neverSent: Bool { cause is NotConnected }
}

/// Shared by a server-streaming call's task and its stream's termination handler.
private final class StreamCallState: Sendable {
    let state = Mutex<(channel: (any Channel)?, terminated: Bool)>((nil, false))
}
