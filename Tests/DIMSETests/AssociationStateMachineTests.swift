import Foundation
import Testing

@testable import DIMSE

/// The Upper Layer state machine against PS3.8 Table 9-10 as pynetdicom encodes it, and through whole associations.
@Suite("Association state machine")
struct AssociationStateMachineTests {
    typealias Machine = AssociationStateMachine

    @Test("every transition of Table 9-10 takes pynetdicom's action to pynetdicom's next state", .enabled(if: PDUCodecTests.hasPynetdicom))
    func sameTableAsPynetdicom() async throws {
        let json = try await PDUCodecTests.pynetdicom(["transitions"])
        let table = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [String]])
        #expect(table.count == 123)
        for event in 1...19 {
            for state in 1...13 {
                let entry = table["Evt\(event) Sta\(state)"]
                for isRequestor in [true, false] {
                    var machine = Machine(isRequestor: isRequestor, state: try #require(Machine.State(rawValue: state)))
                    let eventValue = try #require(Machine.Event(rawValue: event))
                    guard let entry else {
                        // No transition: a primitive is refused; nothing can arrive without a connection.
                        if eventValue.isLocal || state == 1 || state == 4 {
                            #expect(throws: Machine.InvalidPrimitive.self, "Evt\(event) Sta\(state)") { try machine.handle(eventValue) }
                        }
                        continue
                    }
                    _ = try machine.handle(eventValue)
                    #expect(machine.lastAction == entry[0], "Evt\(event) Sta\(state)")
                    // AE-6 hands the request to the service user (Sta3; its rejection then leads to Sta13);
                    // AR-8 leads to Sta9 for the requestor and Sta10 for the acceptor.
                    let expected = entry.count == 3 ? (entry[0] == "AR-8" && !isRequestor ? entry[2] : entry[1]) : entry[1]
                    #expect("Sta\(machine.state.rawValue)" == expected, "Evt\(event) Sta\(state) requestor \(isRequestor)")
                }
            }
        }
    }

    @Test("an acceptor's association from connection to release, and its ARTIM")
    func acceptorLifecycle() throws {
        var machine = Machine(isRequestor: false)
        #expect(try machine.handle(.transportIndication) == [.startARTIM])
        #expect(try machine.handle(.receivedAssociateRequest) == [.stopARTIM, .indicateAssociateRequest])
        #expect(try machine.handle(.acceptPrimitive) == [.sendAssociateAccept])
        #expect(try machine.handle(.receivedData) == [.indicateData])
        #expect(try machine.handle(.dataPrimitive) == [.sendData])
        #expect(try machine.handle(.receivedReleaseRequest) == [.indicateReleaseRequest])
        #expect(try machine.handle(.dataPrimitive) == [.sendData])  // AR-7: responses still owed
        #expect(try machine.handle(.releaseResponsePrimitive) == [.sendReleaseResponse, .startARTIM])
        #expect(try machine.handle(.artimExpired) == [.stopARTIM, .closeTransport])
        #expect(machine.state == .idle)
    }

    @Test("a P-DATA-TF before the A-ASSOCIATE-RQ, and an unrecognised PDU once established, abort the association")
    func violations() throws {
        var early = Machine(isRequestor: false)
        _ = try early.handle(.transportIndication)
        #expect(try early.handle(.receivedData) == [.sendAbort(fromProvider: false), .startARTIM])
        var established = Machine(isRequestor: false, state: .established)
        #expect(try established.handle(.invalidPDU) == [.sendAbort(fromProvider: true), .indicateProviderAbort, .startARTIM])
        #expect(established.state == .awaitingTransportClose)
        #expect(try established.handle(.receivedData) == [])  // AA-6: ignored while waiting for the close
        #expect(throws: Machine.InvalidPrimitive.self) { try established.handle(.dataPrimitive) }
    }

    @Test("a release collision ends released on both sides")
    func releaseCollision() throws {
        var requestor = Machine(isRequestor: true, state: .established)
        var acceptor = Machine(isRequestor: false, state: .established)
        _ = try requestor.handle(.releasePrimitive)
        _ = try acceptor.handle(.releasePrimitive)
        _ = try requestor.handle(.receivedReleaseRequest)  // AR-8 → Sta9
        _ = try acceptor.handle(.receivedReleaseRequest)  // AR-8 → Sta10
        #expect(requestor.state == .collisionRequestorAwaitingLocalResponse && acceptor.state == .collisionAcceptorAwaitingReleaseResponse)
        #expect(try requestor.handle(.releaseResponsePrimitive) == [.sendReleaseResponse])  // AR-9
        #expect(try acceptor.handle(.receivedReleaseResponse) == [.confirmReleased])  // AR-10
        #expect(try acceptor.handle(.releaseResponsePrimitive) == [.sendReleaseResponse, .startARTIM])  // AR-4
        #expect(try requestor.handle(.receivedReleaseResponse) == [.confirmReleased, .closeTransport])  // AR-3
        #expect(requestor.state == .idle && acceptor.state == .awaitingTransportClose)
    }
}
