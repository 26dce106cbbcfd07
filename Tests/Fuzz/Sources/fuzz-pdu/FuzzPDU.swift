import CFuzzerDriver
import DIMSE
import Foundation

/// Any bytes as what a peer sends on an association: cut into PDUs by their headers, each decoded
/// (a PDU or a typed PDUError), driven through an acceptor's state machine, and P-DATA-TF values
/// put together by the message assembler under a 1 MiB bound. Nothing may crash, loop or allocate
/// in proportion to a length the bytes do not back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Data(bytes: start, count: count)
    var machine = AssociationStateMachine(isRequestor: false)
    _ = try? machine.handle(.transportIndication)
    var assembler = DIMSEMessageAssembler(maximumSize: 1 << 20)
    var offset = 0
    while offset + PDUCodec.headerLength <= bytes.count {
        guard let (_, length) = PDUCodec.announcedLength(bytes[offset...]), Int(length) <= bytes.count - offset - PDUCodec.headerLength
        else { break }
        let end = offset + PDUCodec.headerLength + Int(length)
        let event: AssociationStateMachine.Event
        switch try? PDUCodec.decode(bytes.subdata(in: offset..<end)) {
        case .associateRequest(let request)?:
            event = .receivedAssociateRequest
            _ = PDUCodec.encode(.associateRequest(request))
        case .associateAccept?: event = .receivedAssociateAccept
        case .associateReject?: event = .receivedAssociateReject
        case .data(let values)?:
            event = .receivedData
            for value in values { _ = try? assembler.add(value) }
        case .releaseRequest?: event = .receivedReleaseRequest
        case .releaseResponse?: event = .receivedReleaseResponse
        case .abort?: event = .receivedAbort
        case nil: event = .invalidPDU
        }
        let effects = (try? machine.handle(event)) ?? []
        if effects.contains(.indicateAssociateRequest) { _ = try? machine.handle(.acceptPrimitive) }
        offset = end
    }
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_pdu_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
