import DIMSE
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// Drives `AssociationStateMachine` on one connection: PDUs and timers in,
/// the machine's effects performed with the PDUs this side holds. Runs on the
/// channel's event loop; `Association` is its thread-safe face.
final class AssociationHandler: ChannelInboundHandler {
    typealias InboundIn = InboundPDU
    typealias OutboundOut = ByteBuffer

    /// Which side of the association this is.
    enum Role {
        /// Answers A-ASSOCIATE-RQs with `decide(request, peer host)`, and hands each accepted association to `accepted`.
        case acceptor(
            decide: @Sendable (AssociationRequest, String) -> AcceptorPolicy.Answer, accepted: @Sendable (Association) -> Void)
        /// Proposes `request`; `established` completes with the association or the reason it was not set up.
        case requestor(request: AssociationRequest, established: EventLoopPromise<Association>)
    }

    private var machine: AssociationStateMachine
    private let role: Role
    private let settings: AssociationSettings
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var artim: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()
    private var assembler: DIMSEMessageAssembler
    private var continuation: AsyncThrowingStream<DIMSEMessage, any Error>.Continuation?
    private var acceptedContexts = Set<UInt8>()
    private var peerHost = ""

    // What the next effects send or report.
    private var outgoingAnswer: AcceptorPolicy.Answer?
    private var outgoingData: [PDU] = []
    private var lastWrite: EventLoopFuture<Void>?
    private var incomingData: [PresentationDataValue] = []
    private var incomingAccept: AssociationAccept?
    private var incomingReject: AssociationReject?
    private var incomingAbort: (source: UInt8, reason: UInt8) = (0, 0)
    /// Why the provider aborts (A-ABORT reason, words for the service user).
    private var providerAbort: (reason: UInt8, why: String) = (0, "the connection closed")
    private var releasePromise: EventLoopPromise<Void>?
    private var establishedPromise: EventLoopPromise<Association>?

    init(role: Role, settings: AssociationSettings, logger: Logger) {
        self.role = role
        self.settings = settings
        self.logger = logger
        assembler = DIMSEMessageAssembler(maximumSize: settings.maximumMessageSize)
        switch role {
        case .acceptor: machine = AssociationStateMachine(isRequestor: false)
        case .requestor(_, let established):
            machine = AssociationStateMachine(isRequestor: true)
            establishedPromise = established
            _ = try? machine.handle(.associateRequestPrimitive)  // AE-1: the connector opens the transport
        }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { channelActive(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard machine.state == .idle || machine.state == .awaitingTransportOpen else { return }
        peerHost = context.channel.remoteAddress?.ipAddress ?? ""
        apply(machine.isRequestor ? .transportConnected : .transportIndication)
        if machine.isRequestor { startTimer() }  // bounds the wait for A-ASSOCIATE-AC
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .invalid(let why):
            providerAbort = (1, why)
            apply(.invalidPDU)
        case .pdu(let pdu):
            switch pdu {
            case .associateRequest(let request):
                let answer: AcceptorPolicy.Answer
                if case .acceptor(let decide, _) = role {
                    answer = decide(request, peerHost)
                } else {
                    answer = .reject(AssociationReject(result: 1, source: 1, reason: 1))
                }
                outgoingAnswer = answer
                pendingRequestInformation = (request.userInformation, request.presentationContexts)
                apply(.receivedAssociateRequest)
            case .associateAccept(let accept):
                incomingAccept = accept
                apply(.receivedAssociateAccept)
            case .associateReject(let reject):
                incomingReject = reject
                apply(.receivedAssociateReject)
            case .data(let values):
                incomingData = values
                apply(.receivedData)
            case .releaseRequest: apply(.receivedReleaseRequest)
            case .releaseResponse: apply(.receivedReleaseResponse)
            case .abort(let source, let reason):
                incomingAbort = (source, reason)
                apply(.receivedAbort)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if machine.state != .idle { apply(.transportClosed) }
        artim?.cancel()
        idleCheck?.cancel()
        finish(.providerAborted("the connection closed"))
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        providerAbort = (0, "connection error: \(error)")
        logger.debug("association connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Service-user primitives (called through `Association`)

    func send(_ pdus: [PDU]) -> EventLoopFuture<Void> {
        guard let context else { return failed(.invalidState("the association is closed")) }
        outgoingData = pdus
        lastWrite = nil
        guard (try? machine.handle(.dataPrimitive)).map({ perform($0) }) != nil else {
            return failed(.invalidState("cannot send data in state \(machine.state.rawValue) (\(machine.state))"))
        }
        lastActivity = .now()
        return lastWrite ?? context.eventLoop.makeSucceededVoidFuture()
    }

    func release() -> EventLoopFuture<Void> {
        guard let context else { return failed(.invalidState("the association is closed")) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        releasePromise = promise
        guard (try? machine.handle(.releasePrimitive)).map({ perform($0) }) != nil else {
            releasePromise = nil
            return failed(.invalidState("cannot release in state \(machine.state.rawValue) (\(machine.state))"))
        }
        providerAbort = (0, "no A-RELEASE-RP within \(settings.artimTimeout)")
        startTimer()
        return promise.futureResult
    }

    func abort() {
        guard context != nil, let effects = try? machine.handle(.abortPrimitive) else { return }
        finish(.aborted(source: 0, reason: 0))
        perform(effects)
    }

    func acceptRelease() {
        guard let effects = try? machine.handle(.releaseResponsePrimitive) else { return }
        perform(effects)
    }

    // MARK: The machine

    private func apply(_ event: AssociationStateMachine.Event) {
        do {
            perform(try machine.handle(event))
        } catch {
            logger.debug("ignored event", metadata: ["event": "\(event)", "state": "\(machine.state)"])
        }
    }

    private func perform(_ effects: [AssociationStateMachine.Effect]) {
        guard let context else { return }
        for effect in effects {
            switch effect {
            case .openTransport: break  // the connector has opened it
            case .closeTransport: context.close(promise: nil)
            case .startARTIM: startTimer()
            case .stopARTIM:
                artim?.cancel()
                artim = nil
            case .sendAssociateRequest:
                if case .requestor(let request, _) = role { write(.associateRequest(request), flush: true) }
            case .sendAssociateAccept:
                if case .accept(let accept)? = outgoingAnswer { write(.associateAccept(accept), flush: true) }
            case .sendAssociateReject:
                if case .reject(let reject)? = outgoingAnswer { write(.associateReject(reject), flush: true) }
            case .sendData:
                for (index, pdu) in outgoingData.enumerated() {
                    let promise = index == outgoingData.count - 1 ? context.eventLoop.makePromise(of: Void.self) : nil
                    context.write(wrapOutboundOut(ByteBuffer(data: PDUCodec.encode(pdu))), promise: promise)
                    if let promise { lastWrite = promise.futureResult }
                }
                context.flush()
                outgoingData = []
            case .sendReleaseRequest: write(.releaseRequest, flush: true)
            case .sendReleaseResponse: write(.releaseResponse, flush: true)
            case .sendAbort(let fromProvider):
                write(.abort(source: fromProvider ? 2 : 0, reason: fromProvider ? providerAbort.reason : 0), flush: true)
            case .indicateAssociateRequest: answerRequest()
            case .confirmAccepted: established()
            case .confirmRejected:
                establishedPromise?.fail(AssociationError.rejected(incomingReject ?? AssociationReject(result: 1, source: 1, reason: 1)))
                establishedPromise = nil
            case .indicateData: deliver(incomingData)
            case .indicateReleaseRequest:
                continuation?.finish()
                continuation = nil
                // A requestor asked to release by its peer, or either side of a collision, answers at once.
                if machine.isRequestor || machine.state == .collisionRequestorAwaitingLocalResponse { acceptRelease() }
            case .confirmReleased:
                releasePromise?.succeed()
                releasePromise = nil
                finish(nil)
                if machine.state == .collisionAcceptorAwaitingLocalResponse { acceptRelease() }
            case .indicateAbort: finish(.aborted(source: incomingAbort.source, reason: incomingAbort.reason))
            case .indicateProviderAbort: finish(.providerAborted(providerAbort.why))
            }
        }
    }

    private func answerRequest() {
        guard let answer = outgoingAnswer, case .acceptor(_, let accepted) = role else { return }
        guard case .accept(let accept) = answer else {
            apply(.rejectPrimitive)
            return
        }
        acceptedContexts = Set(accept.presentationContexts.filter { $0.result == .acceptance }.map(\.id))
        apply(.acceptPrimitive)
        let association = makeAssociation(
            NegotiatedAssociation(
                callingAETitle: accept.callingAETitle, calledAETitle: accept.calledAETitle, peerHost: peerHost,
                contexts: [:], peerMaximumLength: 0, peerImplementationClassUID: "", roles: accept.userInformation.roles),
            accept: accept, request: pendingRequestInformation)
        accepted(association)
        scheduleIdleCheck()
    }

    /// The requestor's user information, kept from its A-ASSOCIATE-RQ for the negotiated view.
    private var pendingRequestInformation: (UserInformation, [ProposedContext])? = nil

    private func established() {
        artim?.cancel()
        artim = nil
        guard let accept = incomingAccept, case .requestor(let request, _) = role else { return }
        acceptedContexts = Set(accept.presentationContexts.filter { $0.result == .acceptance }.map(\.id))
        let association = makeAssociation(
            NegotiatedAssociation(
                callingAETitle: request.callingAETitle, calledAETitle: request.calledAETitle, peerHost: peerHost, contexts: [:],
                peerMaximumLength: accept.userInformation.maximumLength,
                peerImplementationClassUID: accept.userInformation.implementationClassUID,
                peerImplementationVersionName: accept.userInformation.implementationVersionName, roles: accept.userInformation.roles),
            accept: accept, request: (request.userInformation, request.presentationContexts))
        establishedPromise?.succeed(association)
        establishedPromise = nil
        scheduleIdleCheck()
    }

    private func makeAssociation(
        _ base: NegotiatedAssociation, accept: AssociationAccept, request: (UserInformation, [ProposedContext])?
    ) -> Association {
        var negotiated = base
        let proposed = Dictionary((request?.1 ?? []).map { ($0.id, $0.abstractSyntax) }, uniquingKeysWith: { first, _ in first })
        for context in accept.presentationContexts where context.result == .acceptance {
            negotiated.contexts[context.id] = (proposed[context.id] ?? "", context.transferSyntax)
        }
        if let user = request?.0, !machine.isRequestor {
            negotiated.peerMaximumLength = user.maximumLength
            negotiated.peerImplementationClassUID = user.implementationClassUID
            negotiated.peerImplementationVersionName = user.implementationVersionName
        }
        let (stream, continuation) = AsyncThrowingStream<DIMSEMessage, any Error>.makeStream()
        self.continuation = continuation
        return Association(
            negotiated: negotiated, messages: stream, channel: context!.channel,
            handler: NIOLoopBound(self, eventLoop: context!.eventLoop), settings: settings)
    }

    private func deliver(_ values: [PresentationDataValue]) {
        for value in values {
            guard acceptedContexts.contains(value.contextID) else {
                violation(6, "data on presentation context \(value.contextID), which was not accepted")
                return
            }
            do {
                if let message = try assembler.add(value) { continuation?.yield(message) }
            } catch {
                violation(6, error.description)
                return
            }
        }
    }

    private func violation(_ reason: UInt8, _ why: String) {
        providerAbort = (reason, why)
        logger.warning("association aborted: protocol violation", metadata: ["reason": "\(why)"])
        apply(.invalidPDU)
    }

    private func finish(_ error: AssociationError?) {
        if let error {
            continuation?.finish(throwing: error)
            establishedPromise?.fail(error)
            releasePromise?.fail(error)
        } else {
            continuation?.finish()
        }
        continuation = nil
        establishedPromise = nil
        releasePromise = nil
    }

    private func write(_ pdu: PDU, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(ByteBuffer(data: PDUCodec.encode(pdu))), promise: nil)
        if flush { context.flush() }
    }

    private func failed<T>(_ error: AssociationError) -> EventLoopFuture<T> {
        guard let context else { preconditionFailure("no event loop") }
        return context.eventLoop.makeFailedFuture(error)
    }

    // MARK: Timers

    private func startTimer() {
        guard let context else { return }
        artim?.cancel()
        if machine.state == .awaitingAssociateResponse { providerAbort = (0, "no A-ASSOCIATE-AC within \(settings.artimTimeout)") }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        artim = context.eventLoop.scheduleTask(in: .init(settings.artimTimeout)) { bound.value.artimExpired() }
    }

    private func artimExpired() {
        artim = nil
        logger.debug("ARTIM expired", metadata: ["state": "\(machine.state)"])
        apply(.artimExpired)
    }

    private func scheduleIdleCheck() {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: lastActivity + .init(settings.idleTimeout)) { bound.value.checkIdle() }
    }

    private func checkIdle() {
        guard machine.state == .established else { return }
        if NIODeadline.now() - lastActivity >= .init(settings.idleTimeout) {
            logger.info("association idle: aborting", metadata: ["idle.seconds": "\(settings.idleTimeout)"])
            finish(.timedOut("after \(settings.idleTimeout) without a PDU"))
            apply(.abortPrimitive)
        } else {
            scheduleIdleCheck()
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
