import Foundation
import NIOCore

/// What a caller hands the client handler: a call to start, or one to cancel.
enum ClientRequest: Sendable {
    case start(PendingCall)
    case cancel(requestID: UInt64, error: RPCError)
}

/// A call waiting for its response.
struct PendingCall: Sendable {
    enum Responder: Sendable {
        case unary(UnsafeContinuation<Data, any Error>)
        case stream(AsyncThrowingStream<Data, any Error>.Continuation)
    }

    var frame: Metis_V1_Frame
    var responder: Responder
    var timeout: Duration?
}

/// Multiplexes calls over one connection: registers each call under its
/// request id, routes response frames back in any order, enforces client-side
/// deadlines, and fails every call still waiting when the connection goes away.
/// All its state lives on the channel's event loop.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Metis_V1_Frame
    typealias OutboundIn = ClientRequest
    typealias OutboundOut = Metis_V1_Frame

    private struct Call {
        var responder: PendingCall.Responder
    }

    private var calls: [UInt64: Call] = [:]
    private var deadlines = DeadlineTimer()
    private var flushScheduled = false
    private var isActive = true
    private let address: RPCAddress

    init(address: RPCAddress) {
        self.address = address
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .start(let call):
            // Succeeding `promise` hands the responder to this handler, which now resumes it exactly once.
            promise?.succeed(())
            start(call, context: context)
        case .cancel(let id, let error):
            promise?.succeed(())
            cancel(id, with: error, context: context)
        }
    }

    /// Fails call `id` locally and tells the server to stop it.
    private func cancel(_ id: UInt64, with error: RPCError, context: ChannelHandlerContext) {
        guard calls[id] != nil else { return }
        fail(id, with: error)
        var frame = Metis_V1_Frame()
        frame.requestID = id
        frame.kind = .cancel
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func start(_ call: PendingCall, context: ChannelHandlerContext) {
        let id = call.frame.requestID
        guard isActive else {
            let failure = RPCError(code: .unavailable, message: "\(address): connection closed", cause: NotConnected(reason: nil))
            Self.resume(call.responder, with: .failure(failure))
            return
        }
        guard calls[id] == nil else {
            Self.resume(call.responder, with: .failure(RPCError(code: .internal, message: "request id \(id) already in flight")))
            return
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        if let timeout = call.timeout {
            deadlines.add(
                id: id, deadline: .now() + TimeAmount(timeout), liveCount: calls.count,
                isLive: { calls[$0] != nil }, schedule: { armDeadlineTimer(at: $0, context: context) })
        }
        calls[id] = Call(responder: call.responder)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            // The request did not leave this process: the caller may safely send it again.
            let failure = RPCError(
                code: .unavailable, message: "\(handler.value.address): write failed: \(error)", cause: NotConnected(reason: error))
            handler.value.fail(id, with: failure)
        }
        context.write(wrapOutboundOut(call.frame), promise: written)
    }

    /// Coalesces the flushes of calls started in the same event-loop tick into one.
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            boundContext.value.flush()
        }
    }

    private func armDeadlineTimer(at deadline: NIODeadline, context: ChannelHandlerContext) -> Scheduled<Void> {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(deadline: deadline) {
            handler.value.deadlinesPassed(context: boundContext.value)
        }
    }

    private func deadlinesPassed(context: ChannelHandlerContext) {
        let expired = deadlines.fire(now: .now()) { armDeadlineTimer(at: $0, context: context) }
        for id in expired where calls[id] != nil {
            cancel(id, with: RPCError(code: .deadlineExceeded, message: "deadline exceeded"), context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.kind == .response else {
            context.fireErrorCaught(FrameError(code: .malformed, message: "server sent a frame of kind \(frame.kind)"))
            return
        }
        if frame.requestID == 0 && frame.hasStatus && frame.status.code != .ok {
            // A connection-level refusal (frame too large): every call on it fails.
            failAll(with: RPCError(status: frame.status))
            return
        }
        guard let call = calls[frame.requestID] else { return }  // cancelled or timed out: late answer
        switch call.responder {
        case .unary(let continuation):
            guard frame.endOfStream else {
                fail(frame.requestID, with: RPCError(code: .internal, message: "unary call answered with a stream"))
                return
            }
            remove(frame.requestID)
            if frame.hasStatus && frame.status.code != .ok {
                continuation.resume(throwing: RPCError(status: frame.status))
            } else {
                continuation.resume(returning: frame.payload)
            }
        case .stream(let continuation):
            if !frame.endOfStream {
                continuation.yield(frame.payload)
                return
            }
            remove(frame.requestID)
            if frame.hasStatus && frame.status.code != .ok {
                continuation.finish(throwing: RPCError(status: frame.status))
            } else {
                continuation.finish()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        deadlines.cancel()
        failAll(with: unavailable("connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(with: unavailable("connection failed: \(error)"))
        context.close(promise: nil)
    }

    private func remove(_ id: UInt64) {
        calls.removeValue(forKey: id)
    }

    private func fail(_ id: UInt64, with error: RPCError) {
        guard let call = calls.removeValue(forKey: id) else { return }
        Self.resume(call.responder, with: .failure(error))
    }

    private func failAll(with error: RPCError) {
        let pending = calls
        calls.removeAll()
        for call in pending.values {
            Self.resume(call.responder, with: .failure(error))
        }
    }

    private static func resume(_ responder: PendingCall.Responder, with result: Result<Data, RPCError>) {
        switch (responder, result) {
        case (.unary(let continuation), _):
            continuation.resume(with: result.mapError { $0 as any Error })
        case (.stream(let continuation), .failure(let error)):
            continuation.finish(throwing: error)
        case (.stream(let continuation), .success(let payload)):
            continuation.yield(payload)
            continuation.finish()
        }
    }

    private func unavailable(_ reason: String) -> RPCError {
        RPCError(code: .unavailable, message: "\(address): \(reason)")
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
