public import DIMSE
import Foundation
import NIOCore

/// What both sides agreed on when an association was accepted.
public struct NegotiatedAssociation: Sendable {
    public var callingAETitle: String
    public var calledAETitle: String
    /// The peer's address as text (IPv4 dotted, IPv6 without brackets).
    public var peerHost: String
    /// Accepted presentation contexts: ID → (abstract syntax, transfer syntax).
    public var contexts: [UInt8: (abstractSyntax: String, transferSyntax: String)]
    /// The largest P-DATA-TF the peer receives (0: unlimited).
    public var peerMaximumLength: UInt32
    public var peerImplementationClassUID: String
    public var peerImplementationVersionName: String?
    /// Roles the acceptor agreed to per abstract syntax (SCP role for C-GET's storage sub-operations).
    public var roles: [UserInformation.RoleSelection]

    /// The accepted context for `abstractSyntax`, preferring one whose transfer syntax is in `preferring`.
    public func context(for abstractSyntax: String, preferring: [String] = []) -> UInt8? {
        let candidates = contexts.filter { $0.value.abstractSyntax == abstractSyntax }.sorted { $0.key < $1.key }
        for syntax in preferring { if let match = candidates.first(where: { $0.value.transferSyntax == syntax }) { return match.key } }
        return candidates.first?.key
    }
}

/// Why an association ended or could not be set up.
public enum AssociationError: Error, Sendable, CustomStringConvertible {
    case rejected(AssociationReject)
    /// The peer sent A-ABORT (source 0: service user, 2: service provider).
    case aborted(source: UInt8, reason: UInt8)
    /// The provider aborted: an invalid PDU, a protocol violation, a timer, a lost connection.
    case providerAborted(String)
    case timedOut(String)
    /// The association is not in a state where this can be done.
    case invalidState(String)
    case connectionFailed(String)

    public var description: String {
        switch self {
        case .rejected(let reject):
            "association rejected (result \(reject.result), source \(reject.source), reason \(reject.reason): \(Self.rejectReason(reject)))"
        case .aborted(let source, let reason): "association aborted by the peer (source \(source), reason \(reason))"
        case .providerAborted(let why): "association aborted: \(why)"
        case .timedOut(let what): "timed out \(what)"
        case .invalidState(let why): why
        case .connectionFailed(let why): "cannot connect: \(why)"
        }
    }

    /// PS3.8 Table 9-21's words for a rejection.
    public static func rejectReason(_ reject: AssociationReject) -> String {
        switch (reject.source, reject.reason) {
        case (1, 1): "no reason given"
        case (1, 2): "application context name not supported"
        case (1, 3): "calling AE title not recognized"
        case (1, 7): "called AE title not recognized"
        case (2, 1): "no reason given (ACSE)"
        case (2, 2): "protocol version not supported"
        case (3, 1): "temporary congestion"
        case (3, 2): "local limit exceeded"
        default: "reason \(reject.reason)"
        }
    }
}

/// Timers and limits of one association.
public struct AssociationSettings: Sendable {
    /// ARTIM (PS3.8 §9.1.5): how long to wait for an A-ASSOCIATE-RQ after a connection opens, for the close after a
    /// rejection, release or abort, and (as requestor) for the A-ASSOCIATE-AC.
    public var artimTimeout: Duration = .seconds(30)
    /// An established association with no PDU either way for this long is aborted.
    public var idleTimeout: Duration = .seconds(120)
    /// The Maximum Length announced: the largest P-DATA-TF this side receives.
    public var maximumReceiveLength: UInt32 = 256 * 1024
    /// The largest P-DATA-TF sent when the peer announces no limit.
    public var maximumSendLength: UInt32 = 1 << 20
    /// The largest command or data set accepted in one message.
    public var maximumMessageSize = 1 << 30

    public init() {}
}

/// One established association: the messages the peer sends, in order, and
/// the means to answer them, release or abort. Safe to use from any task; one
/// task at a time reads `messages`.
public final class Association: Sendable {
    public let negotiated: NegotiatedAssociation
    /// The peer's DIMSE messages; finishes when the peer releases, throws an `AssociationError` on an abort.
    public let messages: AsyncThrowingStream<DIMSEMessage, any Error>
    let channel: any Channel
    let handler: NIOLoopBound<AssociationHandler>
    /// The length P-DATA-TF PDUs are cut to.
    let sendLength: UInt32

    init(
        negotiated: NegotiatedAssociation, messages: AsyncThrowingStream<DIMSEMessage, any Error>, channel: any Channel,
        handler: NIOLoopBound<AssociationHandler>, settings: AssociationSettings
    ) {
        self.negotiated = negotiated
        sendLength = negotiated.peerMaximumLength == 0 ? settings.maximumSendLength : negotiated.peerMaximumLength
        self.messages = messages
        self.channel = channel
        self.handler = handler
    }

    /// Sends `message` in P-DATA-TF PDUs within the peer's maximum length; returns once they are written.
    public func send(_ message: DIMSEMessage) async throws {
        let pdus = try message.pdus(maximumLength: sendLength)
        try await channel.eventLoop.flatSubmit { [handler] in handler.value.send(pdus) }.get()
    }

    /// Sends `messages` in order with one write to the socket (C-FIND's pending responses).
    public func send(_ messages: [DIMSEMessage]) async throws {
        var pdus = [PDU]()
        for message in messages { pdus += try message.pdus(maximumLength: sendLength) }
        try await channel.eventLoop.flatSubmit { [handler, pdus] in handler.value.send(pdus) }.get()
    }

    /// Requestor: A-RELEASE-RQ, then waits for the peer's A-RELEASE-RP.
    public func release() async throws {
        try await channel.eventLoop.flatSubmit { [handler] in handler.value.release() }.get()
    }

    /// Sends A-ABORT (service user) and closes the connection.
    public func abort() async {
        try? await channel.eventLoop.submit { [handler] in handler.value.abort() }.get()
    }

    /// Acceptor: answers the peer's A-RELEASE-RQ once every response is sent.
    func acceptRelease() async {
        try? await channel.eventLoop.submit { [handler] in handler.value.acceptRelease() }.get()
    }

    /// Completes when the connection has closed.
    public func closed() async {
        try? await channel.closeFuture.get()
    }
}
