import Foundation
import Logging
import NIOCore

/// Serves the calls of one connection: dispatches each request frame to its
/// handler in a task, enforces deadlines, and writes the responses back.
/// All its state lives on the channel's event loop.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Metis_V1_Frame
    typealias OutboundOut = Metis_V1_Frame

    private struct ActiveCall {
        var task: Task<Void, Never>?
    }

    private let router: RPCRouter
    private let tracker: CallTracker
    private let logger: Logger
    private let executor: EventLoopTaskExecutor?
    private var calls: [UInt64: ActiveCall] = [:]
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private var deadlines = DeadlineTimer()

    init(router: RPCRouter, tracker: CallTracker, logger: Logger, executor: EventLoopTaskExecutor?) {
        self.router = router
        self.tracker = tracker
        self.logger = logger
        self.executor = executor
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.kind {
        case .request:
            startCall(frame, context: context)
        case .cancel:
            if let call = calls.removeValue(forKey: frame.requestID) {
                call.task?.cancel()
                tracker.end()
            }
        case .response, .unspecified, .UNRECOGNIZED:
            logger.warning("closing connection: unexpected frame kind from client", metadata: ["rpc.frame_kind": "\(frame.kind)"])
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for call in calls.values {
            call.task?.cancel()
            tracker.end()
        }
        calls.removeAll()
        deadlines.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? FrameError, error.code == .tooLarge {
            logger.warning("closing connection: \(error.message)")
            let status = RPCError(code: .resourceExhausted, message: error.message)
            let frame = Self.responseFrame(requestID: 0, payload: nil, status: status)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            logger.warning("closing connection: \(error)")
            context.close(promise: nil)
        }
    }

    // MARK: Calls

    private func startCall(_ frame: Metis_V1_Frame, context: ChannelHandlerContext) {
        let id = frame.requestID
        guard calls[id] == nil else {
            logger.warning("closing connection: request id \(id) reused while in flight")
            context.close(promise: nil)
            return
        }
        guard let route = router.routes[frame.method] else {
            let status = RPCError(code: .unimplemented, message: "method '\(frame.method)' is not served here")
            context.writeAndFlush(wrapOutboundOut(Self.responseFrame(requestID: id, payload: nil, status: status)), promise: nil)
            return
        }
        guard tracker.begin() else {
            let status = RPCError(code: .unavailable, message: "server is shutting down")
            context.writeAndFlush(wrapOutboundOut(Self.responseFrame(requestID: id, payload: nil, status: status)), promise: nil)
            return
        }
        var deadline: ContinuousClock.Instant?
        if frame.timeoutMicros > 0 {
            deadline = ContinuousClock.now.advanced(by: .microseconds(frame.timeoutMicros))
        }
        let callContext = ServerContext(
            method: route.method, requestID: id, metadata: frame.metadata, deadline: deadline, logger: logger)

        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        var call = ActiveCall()
        if frame.timeoutMicros > 0 {
            deadlines.add(
                id: id, deadline: .now() + .microseconds(Int64(clamping: frame.timeoutMicros)), liveCount: calls.count,
                isLive: { calls[$0] != nil }, schedule: { armDeadlineTimer(at: $0, on: eventLoop) })
        }
        let send: @Sendable (Data) async throws -> Void = { payload in
            try await eventLoop.flatSubmit { handler.value.sendStreamMessage(id, payload: payload, on: eventLoop) }.get()
        }
        let payload = frame.payload
        let finish: @Sendable (Data?, RPCError?) -> Void = { result, error in
            if eventLoop.inEventLoop {
                handler.value.finish(id, payload: result, error: error)
            } else {
                eventLoop.execute { handler.value.finish(id, payload: result, error: error) }
            }
        }
        // Streams run off the loop: a producer that never waits elsewhere would starve the loop's reads (and so its CANCEL).
        call.task = Task(executorPreference: route.method.kind == .unary ? executor : nil) {
            do {
                finish(try await route.handler(payload, callContext, send), nil)
            } catch {
                let status = RPCError.from(error)
                if status.code == .internal { callContext.logger.error("call failed: \(error)") }
                finish(nil, status)
            }
        }
        calls[id] = call
    }

    private func armDeadlineTimer(at deadline: NIODeadline, on eventLoop: any EventLoop) -> Scheduled<Void> {
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        return eventLoop.scheduleTask(deadline: deadline) { handler.value.deadlinesPassed(on: eventLoop) }
    }

    private func deadlinesPassed(on eventLoop: any EventLoop) {
        let expired = deadlines.fire(now: .now()) { armDeadlineTimer(at: $0, on: eventLoop) }
        for id in expired where calls[id] != nil {
            finish(id, payload: nil, error: RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
        }
    }

    private func sendStreamMessage(_ id: UInt64, payload: Data, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let context, calls[id] != nil else {
            return eventLoop.makeFailedFuture(RPCError(code: .cancelled, message: "call \(id) is no longer active"))
        }
        var frame = Metis_V1_Frame()
        frame.requestID = id
        frame.kind = .response
        frame.payload = payload
        return context.writeAndFlush(wrapOutboundOut(frame))
    }

    /// Ends call `id` once: with its final payload, or with `error`'s status.
    private func finish(_ id: UInt64, payload: Data?, error: RPCError?) {
        guard let call = calls.removeValue(forKey: id) else { return }
        if error?.code == .deadlineExceeded { call.task?.cancel() }
        if let context {
            let frame = Self.responseFrame(requestID: id, payload: payload, status: error)
            context.write(wrapOutboundOut(frame), promise: nil)
            scheduleFlush(context: context)
        }
        // Last: a draining server closes connections once no call is in flight,
        // and its close must queue behind this response's flush.
        tracker.end()
    }

    /// One flush for every response finished in the same event-loop tick.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            handler.value.context?.flush()
        }
    }

    private static func responseFrame(requestID: UInt64, payload: Data?, status: RPCError?) -> Metis_V1_Frame {
        var frame = Metis_V1_Frame()
        frame.requestID = requestID
        frame.kind = .response
        frame.endOfStream = true
        if let payload { frame.payload = payload }
        if let status { frame.status = status.wireStatus }
        return frame
    }
}
