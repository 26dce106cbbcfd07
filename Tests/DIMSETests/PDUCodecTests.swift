import Foundation
import TestSupport
import Testing

@testable import DIMSE

/// The Upper Layer PDUs against pynetdicom's own encoder and decoder (Scripts/pdu_check.py).
@Suite("Upper Layer PDUs")
struct PDUCodecTests {
    static let script = Bundle.module.resourceURL!.appendingPathComponent("Scripts/pdu_check.py").path
    static var hasPynetdicom: Bool { PythonModules.available("pynetdicom") }

    static func pynetdicom(_ arguments: [String]) async throws -> String {
        let result = try await ToolProcess.run("python3", [script] + arguments, standardError: .discarded)
        try #require(result.status == 0, "pdu_check.py \(arguments.first ?? "") failed")
        return result.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
    static func bytes(_ hex: String) -> Data {
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            data.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return data
    }

    static let request = AssociationRequest(
        calledAETitle: "METIS", callingAETitle: "SCANNER1",
        presentationContexts: [
            ProposedContext(id: 1, abstractSyntax: "1.2.840.10008.1.1", transferSyntaxes: ["1.2.840.10008.1.2"]),
            ProposedContext(
                id: 3, abstractSyntax: "1.2.840.10008.5.1.4.1.1.4", transferSyntaxes: ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1"]),
        ],
        userInformation: UserInformation(
            maximumLength: 16382, implementationClassUID: "1.2.826.0.1.3680043.9.3811.2.1.1", implementationVersionName: "PYNETDICOM_211",
            asynchronousOperations: (3, 2), roles: [.init(abstractSyntax: "1.2.840.10008.5.1.4.1.1.4", scu: false, scp: true)]))

    @Test("an A-ASSOCIATE-RQ pynetdicom writes decodes to what it proposed", .enabled(if: hasPynetdicom))
    func decodesPynetdicomRequest() async throws {
        let pdu = try PDUCodec.decode(Self.bytes(try await Self.pynetdicom(["request"])))
        #expect(pdu == .associateRequest(Self.request))
    }

    @Test("the A-ASSOCIATE-RQ, -AC, -RJ, P-DATA-TF and A-ABORT Metis writes are what pynetdicom reads", .enabled(if: hasPynetdicom))
    func pynetdicomReadsMetis() async throws {
        let request = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try await Self.pynetdicom(["decode", Self.hex(PDUCodec.encode(.associateRequest(Self.request)))]).utf8))
                as? [String: Any])
        #expect(request["called"] as? String == "METIS" && request["calling"] as? String == "SCANNER1")
        let contexts = try #require(request["contexts"] as? [[String: Any]])
        #expect(contexts.map { $0["id"] as? Int } == [1, 3])
        #expect(contexts[1]["transfer"] as? [String] == ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1"])
        let user = try #require(request["user"] as? [String: Any])
        #expect(user["maximum_length"] as? Int == 16382)
        #expect(user["asynchronous_operations"] as? [Int] == [3, 2])
        #expect(user["roles"] as? [[AnyHashable]] == [["1.2.840.10008.5.1.4.1.1.4", 0, 1]])

        let accept = AssociationAccept(
            calledAETitle: "METIS", callingAETitle: "SCANNER1",
            presentationContexts: [
                AcceptedContext(id: 1, result: .acceptance, transferSyntax: "1.2.840.10008.1.2"),
                AcceptedContext(id: 3, result: .transferSyntaxesNotSupported, transferSyntax: "1.2.840.10008.1.2.1"),
            ],
            userInformation: UserInformation(maximumLength: 65536, implementationClassUID: "1.2.826.0.1.3680043.10.1001"))
        let answer = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try await Self.pynetdicom(["decode", Self.hex(PDUCodec.encode(.associateAccept(accept)))]).utf8))
                as? [String: Any])
        let accepted = try #require(answer["contexts"] as? [[String: Any]])
        #expect(accepted.map { $0["result"] as? Int } == [0, 4])
        #expect((answer["user"] as? [String: Any])?["maximum_length"] as? Int == 65536)

        let reject = try await Self.pynetdicom([
            "decode", Self.hex(PDUCodec.encode(.associateReject(.init(result: 1, source: 1, reason: 7)))),
        ])
        #expect(reject.contains("\"result\": 1") && reject.contains("\"reason\": 7"))
        let abort = try await Self.pynetdicom(["decode", Self.hex(PDUCodec.encode(.abort(source: 2, reason: 6)))])
        #expect(abort.contains("\"source\": 2") && abort.contains("\"reason\": 6"))
    }

    @Test("P-DATA-TF fragments both ways", .enabled(if: hasPynetdicom))
    func presentationData() async throws {
        let theirs = try PDUCodec.decode(Self.bytes(try await Self.pynetdicom(["data"])))
        let values = [
            PresentationDataValue(contextID: 1, isCommand: true, isLastFragment: false, data: Data("command!".utf8)),
            PresentationDataValue(contextID: 3, isCommand: false, isLastFragment: true, data: Data("dataset-fragment".utf8)),
        ]
        #expect(theirs == .data(values))
        #expect(Self.hex(PDUCodec.encode(.data(values))) == (try await Self.pynetdicom(["data"])))
    }

    @Test("every PDU round-trips, and release PDUs are four reserved bytes")
    func roundTrip() throws {
        let pdus: [PDU] = [
            .associateRequest(Self.request), .associateReject(.init(result: 2, source: 3, reason: 1)),
            .data([.init(contextID: 5, isCommand: false, isLastFragment: true, data: Data(repeating: 7, count: 300))]), .releaseRequest,
            .releaseResponse, .abort(source: 0, reason: 0),
        ]
        for pdu in pdus { #expect(try PDUCodec.decode(PDUCodec.encode(pdu)) == pdu) }
        #expect(PDUCodec.encode(.releaseRequest) == Data([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]))
    }

    @Test("truncated, oversized and malformed PDUs are errors that say where, never crashes")
    func malformed() throws {
        let good = PDUCodec.encode(.associateRequest(Self.request))
        for cut in [0, 1, 6, 10, 74, 80, good.count - 1] {
            #expect(throws: PDUError.self) { try PDUCodec.decode(good.prefix(cut)) }
        }
        var lying = good
        lying[5] = lying[5] &+ 40  // a PDU length the bytes do not back
        #expect(throws: PDUError.self) { try PDUCodec.decode(lying) }
        var badItem = good
        badItem[74] = 0x7F  // an unknown item type where the application context starts
        #expect(throws: PDUError.self) { try PDUCodec.decode(badItem) }
        #expect(throws: PDUError.self) { try PDUCodec.decode(Data([0x09, 0, 0, 0, 0, 0])) }
        var generator = SeededGenerator(seed: 19)
        for _ in 0..<2000 {
            var mutated = [UInt8](good)
            for _ in 0..<4 { mutated[Int(generator.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? PDUCodec.decode(Data(mutated))
        }
    }
}
