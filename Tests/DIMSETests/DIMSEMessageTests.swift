import DICOM
import Foundation
import TestSupport
import Testing

@testable import DIMSE

/// DIMSE messages split into P-DATA-TF PDUs as pynetdicom splits them, and put back together.
@Suite("DIMSE messages")
struct DIMSEMessageTests {
    static func us(_ tag: DICOM.Tag, _ value: UInt16) -> DataElement {
        DataElement(tag: tag, vr: .US, value: .bytes(withUnsafeBytes(of: value.littleEndian) { Data($0) }))
    }

    static let echo = DIMSEMessage(
        contextID: 1,
        command: Dataset([
            .text(.affectedSOPClassUID, .UI, "1.2.840.10008.1.1"), us(.commandField, 0x0030), us(.messageID, 7),
            us(.commandDataSetType, DIMSEMessage.noDataSet),
        ]))
    static let store = DIMSEMessage(
        contextID: 3,
        command: Dataset([
            .text(.affectedSOPClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4"), us(.commandField, 0x0001), us(.messageID, 8),
            us(.priority, 0), us(.commandDataSetType, 0x0001), .text(.affectedSOPInstanceUID, .UI, "1.2.826.0.1.3680043.8.498.1"),
        ]), dataset: Data((0..<256).map { UInt8($0) }) + Data(count: 44))

    @Test("a C-ECHO-RQ and a C-STORE-RQ travel in the PDUs pynetdicom sends for them", .enabled(if: PDUCodecTests.hasPynetdicom))
    func sameAsPynetdicom() async throws {
        for maximum: UInt32 in [128, 16382] {
            let theirs = try await PDUCodecTests.pynetdicom(["messages", String(maximum)]).split(separator: "\n").map(String.init)
            let ours = try (Self.echo.pdus(maximumLength: maximum) + Self.store.pdus(maximumLength: maximum)).map {
                PDUCodecTests.hex(PDUCodec.encode($0))
            }
            #expect(ours == theirs, "maximum PDU length \(maximum)")
        }
    }

    @Test("fragments reassemble into the message; no PDU exceeds the maximum length")
    func reassembly() throws {
        var assembler = DIMSEMessageAssembler(maximumSize: 1 << 20)
        var messages = [DIMSEMessage]()
        for maximum: UInt32 in [64, 128, 0] {
            for message in [Self.echo, Self.store] {
                for pdu in try message.pdus(maximumLength: maximum) {
                    let encoded = PDUCodec.encode(pdu)
                    if maximum > 0 { #expect(encoded.count - PDUCodec.headerLength <= Int(maximum)) }
                    guard case .data(let values) = try PDUCodec.decode(encoded) else {
                        Issue.record("not a P-DATA-TF")
                        continue
                    }
                    for value in values { if let done = try assembler.add(value) { messages.append(done) } }
                }
            }
        }
        #expect(messages.count == 6)
        for pair in messages.chunked(2) {
            #expect(pair[pair.startIndex].command.int(.messageID) == 7 && pair[pair.startIndex].dataset == nil)
            #expect(pair[pair.startIndex + 1].command.string(.affectedSOPInstanceUID) == "1.2.826.0.1.3680043.8.498.1")
            #expect(pair[pair.startIndex + 1].dataset == Self.store.dataset)
        }
    }

    @Test("out-of-order or oversized fragments are errors")
    func refusals() throws {
        var assembler = DIMSEMessageAssembler(maximumSize: 100)
        #expect(throws: DIMSEMessageAssembler.AssemblyError.self) {
            try assembler.add(PresentationDataValue(contextID: 1, isCommand: false, isLastFragment: true, data: Data([1, 2])))
        }
        var small = DIMSEMessageAssembler(maximumSize: 200)  // the command fits, the 300-byte data set does not
        let pdus = try Self.store.pdus(maximumLength: 0)
        guard case .data(let command) = pdus[0], case .data(let dataset) = pdus[1] else { throw CancellationError() }
        _ = try small.add(command[0])
        #expect(throws: DIMSEMessageAssembler.AssemblyError.self) { try small.add(dataset[0]) }
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
