/// The DICOM Upper Layer state machine (PS3.8 §9.2, Tables 9-6 to 9-10) as a
/// value: events in, effects out. The driver (a network channel) turns what
/// happens on the wire and what the service user asks into `Event`s, and
/// performs the `Effect`s it gets back with the PDUs it holds.
public struct AssociationStateMachine: Sendable {
    /// The thirteen states of PS3.8 Table 9-1 (raw value: the "Sta" number).
    public enum State: Int, Sendable {
        case idle = 1
        case awaitingAssociateRequest = 2
        case awaitingLocalAssociateResponse = 3
        case awaitingTransportOpen = 4
        case awaitingAssociateResponse = 5
        case established = 6
        case awaitingReleaseResponse = 7
        case awaitingLocalReleaseResponse = 8
        case collisionRequestorAwaitingLocalResponse = 9
        case collisionAcceptorAwaitingReleaseResponse = 10
        case collisionRequestorAwaitingReleaseResponse = 11
        case collisionAcceptorAwaitingLocalResponse = 12
        case awaitingTransportClose = 13
    }

    /// The nineteen events of PS3.8 Table 9-9 (raw value: the "Evt" number).
    public enum Event: Int, Sendable {
        case associateRequestPrimitive = 1
        case transportConnected = 2
        case receivedAssociateAccept = 3
        case receivedAssociateReject = 4
        case transportIndication = 5
        case receivedAssociateRequest = 6
        case acceptPrimitive = 7
        case rejectPrimitive = 8
        case dataPrimitive = 9
        case receivedData = 10
        case releasePrimitive = 11
        case receivedReleaseRequest = 12
        case receivedReleaseResponse = 13
        case releaseResponsePrimitive = 14
        case abortPrimitive = 15
        case receivedAbort = 16
        case transportClosed = 17
        case artimExpired = 18
        case invalidPDU = 19

        /// Whether the event is the service user's request rather than something that happened to it.
        var isLocal: Bool { [1, 7, 8, 9, 11, 14, 15].contains(rawValue) }
    }

    /// What the driver must do, in order.
    public enum Effect: Sendable, Equatable {
        case openTransport
        case closeTransport
        case startARTIM
        case stopARTIM
        case sendAssociateRequest
        case sendAssociateAccept
        case sendAssociateReject
        case sendData
        case sendReleaseRequest
        case sendReleaseResponse
        /// A-ABORT with source 0 (service user) or 2 (service provider, with a reason).
        case sendAbort(fromProvider: Bool)
        /// Hand the A-ASSOCIATE-RQ to the service user, who answers with `acceptPrimitive` or `rejectPrimitive`.
        case indicateAssociateRequest
        case confirmAccepted
        case confirmRejected
        case indicateData
        case indicateReleaseRequest
        case confirmReleased
        /// The peer aborted (A-ABORT PDU); the driver reads its source.
        case indicateAbort
        /// The provider aborted the association (A-P-ABORT): invalid PDU, lost connection.
        case indicateProviderAbort
    }

    /// A primitive asked in a state where PS3.8 has no transition for it.
    public struct InvalidPrimitive: Error, Sendable, CustomStringConvertible, Equatable {
        public let event: Event
        public let state: State
        public var description: String { "event \(event.rawValue) (\(event)) is not valid in state \(state.rawValue) (\(state))" }
    }

    public private(set) var state: State = .idle
    /// Whether this side requested the association (decides a release collision, AR-8).
    public let isRequestor: Bool
    /// The action name of the last transition (AE-1 … AA-8), for logs and tests.
    public private(set) var lastAction = ""

    public init(isRequestor: Bool) { self.isRequestor = isRequestor }

    /// A machine already in `state` (for tests of the transition table).
    init(isRequestor: Bool, state: State) {
        self.isRequestor = isRequestor
        self.state = state
    }

    /// Applies `event`: the effects to perform. A PDU in a state that has no use for it
    /// aborts (AA-1, AA-8) as the table says; a primitive without a transition throws.
    public mutating func handle(_ event: Event) throws(InvalidPrimitive) -> [Effect] {
        guard let (action, effects, next) = Self.transition(event, from: state, isRequestor: isRequestor) else {
            if event.isLocal || state == .idle || state == .awaitingTransportOpen { throw InvalidPrimitive(event: event, state: state) }
            // A network event PS3.8 leaves blank cannot occur with a conforming transport; treat it as invalid.
            return try handle(.invalidPDU)
        }
        lastAction = action
        state = next
        return effects
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func transition(_ event: Event, from state: State, isRequestor: Bool) -> (String, [Effect], State)? {
        typealias S = State
        let aa1: (String, [Effect], State) = ("AA-1", [.sendAbort(fromProvider: false), .startARTIM], .awaitingTransportClose)
        let aa2: (String, [Effect], State) = ("AA-2", [.stopARTIM, .closeTransport], .idle)
        let aa3: (String, [Effect], State) = ("AA-3", [.indicateAbort, .closeTransport], .idle)
        let aa4: (String, [Effect], State) = ("AA-4", [.indicateProviderAbort], .idle)
        let aa6: (String, [Effect], State) = ("AA-6", [], .awaitingTransportClose)
        let aa7: (String, [Effect], State) = ("AA-7", [.sendAbort(fromProvider: true)], .awaitingTransportClose)
        let aa8: (String, [Effect], State) =
            ("AA-8", [.sendAbort(fromProvider: true), .indicateProviderAbort, .startARTIM], .awaitingTransportClose)
        // States 3, 5 and 6 to 12: a connection exists and an association is (being) set up.
        let associated: Set<S> = [
            .awaitingLocalAssociateResponse, .awaitingAssociateResponse, .established, .awaitingReleaseResponse,
            .awaitingLocalReleaseResponse, .collisionRequestorAwaitingLocalResponse, .collisionAcceptorAwaitingReleaseResponse,
            .collisionRequestorAwaitingReleaseResponse, .collisionAcceptorAwaitingLocalResponse,
        ]
        switch (event, state) {
        case (.associateRequestPrimitive, .idle): return ("AE-1", [.openTransport], .awaitingTransportOpen)
        case (.transportConnected, .awaitingTransportOpen): return ("AE-2", [.sendAssociateRequest], .awaitingAssociateResponse)
        case (.receivedAssociateAccept, .awaitingAssociateResponse): return ("AE-3", [.confirmAccepted], .established)
        case (.receivedAssociateReject, .awaitingAssociateResponse): return ("AE-4", [.confirmRejected, .closeTransport], .idle)
        case (.transportIndication, .idle): return ("AE-5", [.startARTIM], .awaitingAssociateRequest)
        case (.receivedAssociateRequest, .awaitingAssociateRequest):
            return ("AE-6", [.stopARTIM, .indicateAssociateRequest], .awaitingLocalAssociateResponse)
        case (.acceptPrimitive, .awaitingLocalAssociateResponse): return ("AE-7", [.sendAssociateAccept], .established)
        case (.rejectPrimitive, .awaitingLocalAssociateResponse):
            return ("AE-8", [.sendAssociateReject, .startARTIM], .awaitingTransportClose)
        case (.dataPrimitive, .established): return ("DT-1", [.sendData], .established)
        case (.receivedData, .established): return ("DT-2", [.indicateData], .established)
        case (.releasePrimitive, .established): return ("AR-1", [.sendReleaseRequest], .awaitingReleaseResponse)
        case (.receivedReleaseRequest, .established): return ("AR-2", [.indicateReleaseRequest], .awaitingLocalReleaseResponse)
        case (.receivedReleaseResponse, .awaitingReleaseResponse),
            (.receivedReleaseResponse, .collisionRequestorAwaitingReleaseResponse):
            return ("AR-3", [.confirmReleased, .closeTransport], .idle)
        case (.releaseResponsePrimitive, .awaitingLocalReleaseResponse),
            (.releaseResponsePrimitive, .collisionAcceptorAwaitingLocalResponse):
            return ("AR-4", [.sendReleaseResponse, .startARTIM], .awaitingTransportClose)
        case (.transportClosed, .awaitingTransportClose): return ("AR-5", [.stopARTIM], .idle)
        case (.receivedData, .awaitingReleaseResponse): return ("AR-6", [.indicateData], .awaitingReleaseResponse)
        case (.dataPrimitive, .awaitingLocalReleaseResponse): return ("AR-7", [.sendData], .awaitingLocalReleaseResponse)
        case (.receivedReleaseRequest, .awaitingReleaseResponse):
            return (
                "AR-8", [.indicateReleaseRequest],
                isRequestor ? .collisionRequestorAwaitingLocalResponse : .collisionAcceptorAwaitingReleaseResponse
            )
        case (.releaseResponsePrimitive, .collisionRequestorAwaitingLocalResponse):
            return ("AR-9", [.sendReleaseResponse], .collisionRequestorAwaitingReleaseResponse)
        case (.receivedReleaseResponse, .collisionAcceptorAwaitingReleaseResponse):
            return ("AR-10", [.confirmReleased], .collisionAcceptorAwaitingLocalResponse)

        case (.abortPrimitive, .awaitingTransportOpen): return ("AA-2", [.closeTransport], .idle)
        case (.abortPrimitive, let s) where associated.contains(s): return aa1
        case (.receivedAbort, .awaitingAssociateRequest), (.receivedAbort, .awaitingTransportClose): return aa2
        case (.receivedAbort, let s) where associated.contains(s): return aa3
        case (.transportClosed, .awaitingAssociateRequest): return ("AA-5", [.stopARTIM], .idle)
        case (.transportClosed, .awaitingTransportOpen): return aa4
        case (.transportClosed, let s) where associated.contains(s): return aa4
        case (.artimExpired, .awaitingAssociateRequest), (.artimExpired, .awaitingTransportClose): return aa2

        // PDUs that make no sense where they arrive.
        case (.receivedAssociateAccept, .awaitingAssociateRequest), (.receivedAssociateReject, .awaitingAssociateRequest),
            (.receivedData, .awaitingAssociateRequest), (.receivedReleaseRequest, .awaitingAssociateRequest),
            (.receivedReleaseResponse, .awaitingAssociateRequest), (.invalidPDU, .awaitingAssociateRequest):
            return aa1
        case (.receivedAssociateRequest, .awaitingTransportClose), (.invalidPDU, .awaitingTransportClose): return aa7
        case (.receivedAssociateAccept, .awaitingTransportClose), (.receivedAssociateReject, .awaitingTransportClose),
            (.receivedData, .awaitingTransportClose), (.receivedReleaseRequest, .awaitingTransportClose),
            (.receivedReleaseResponse, .awaitingTransportClose):
            return aa6
        case (.receivedAssociateAccept, let s), (.receivedAssociateReject, let s), (.receivedAssociateRequest, let s),
            (.receivedData, let s), (.receivedReleaseRequest, let s), (.receivedReleaseResponse, let s), (.invalidPDU, let s):
            return associated.contains(s) ? aa8 : nil
        default: return nil
        }
    }
}
