import Foundation
import Testing

@testable import DIMSE

@Suite("Association negotiation")
struct AssociationNegotiationTests {
    static let mr = "1.2.840.10008.5.1.4.1.1.4", verification = "1.2.840.10008.1.1"
    static let policy = AcceptorPolicy(
        aeTitle: "METIS",
        syntaxes: [
            verification: ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"],
            mr: ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.90"],
        ], maximumLength: 65536, implementationClassUID: "1.2.826.0.1.3680043.10.1001", implementationVersionName: "METIS_0.1")

    static func request(called: String = "METIS", contexts: [ProposedContext], window: (UInt16, UInt16)? = nil) -> AssociationRequest {
        AssociationRequest(
            calledAETitle: called, callingAETitle: "SCANNER1", presentationContexts: contexts,
            userInformation: UserInformation(maximumLength: 16382, implementationClassUID: "1.2.3", asynchronousOperations: window))
    }

    @Test("each context gets the first proposed transfer syntax Metis reads; unknown ones are refused with their reason")
    func contexts() throws {
        let answer = Self.policy.answer(
            Self.request(contexts: [
                ProposedContext(
                    id: 1, abstractSyntax: Self.mr,
                    transferSyntaxes: ["1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1"]),
                ProposedContext(id: 3, abstractSyntax: "1.2.840.10008.5.1.4.1.1.481.5", transferSyntaxes: ["1.2.840.10008.1.2"]),
                ProposedContext(id: 5, abstractSyntax: Self.verification, transferSyntaxes: ["1.2.840.10008.1.2.2"]),
            ]))
        guard case .accept(let accept) = answer else {
            Issue.record("rejected: \(answer)")
            return
        }
        #expect(accept.presentationContexts.map(\.result) == [.acceptance, .abstractSyntaxNotSupported, .transferSyntaxesNotSupported])
        #expect(accept.presentationContexts[0].transferSyntax == "1.2.840.10008.1.2.4.90")
        #expect(accept.userInformation.asynchronousOperations == nil)
        #expect(try PDUCodec.decode(PDUCodec.encode(.associateAccept(accept))) == .associateAccept(accept))
    }

    @Test("the asynchronous operations window is 1 unless both sides ask for more")
    func window() {
        guard case .accept(let accept) = Self.policy.answer(Self.request(contexts: [], window: (5, 0))) else {
            Issue.record("rejected")
            return
        }
        #expect(accept.userInformation.asynchronousOperations?.invoked == 1)
        #expect(accept.userInformation.asynchronousOperations?.performed == 1)
    }

    @Test("a wrong called AE title, an unknown caller or another application context is rejected with its reason")
    func rejections() {
        #expect(Self.policy.answer(Self.request(called: "ORTHANC", contexts: [])) == .reject(.init(result: 1, source: 1, reason: 7)))
        var restricted = Self.policy
        restricted.allowedCallers = ["PACS"]
        #expect(restricted.answer(Self.request(contexts: [])) == .reject(.init(result: 1, source: 1, reason: 3)))
        var other = Self.request(contexts: [])
        other.applicationContext = "1.2.3.4"
        #expect(Self.policy.answer(other) == .reject(.init(result: 1, source: 1, reason: 2)))
    }
}
