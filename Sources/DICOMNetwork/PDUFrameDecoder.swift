import DIMSE
import Foundation
import NIOCore
import NIOFoundationCompat

/// What arrives on an association's connection: a decoded PDU, or bytes that are not one.
enum InboundPDU {
    case pdu(PDU)
    /// An unrecognised or invalid PDU (event 19): nothing after it is read.
    case invalid(String)
}

/// Cuts the byte stream into PDUs by their 6-byte headers. A P-DATA-TF longer
/// than the maximum length this side announced, or any other PDU above
/// `maximumOtherLength`, is invalid before its body is buffered.
struct PDUFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundPDU

    /// The Maximum Length this side announced (0: unlimited).
    let maximumDataLength: UInt32
    /// Associate requests, accepts and the rest: far below this in practice.
    let maximumOtherLength: UInt32 = 1 << 20
    private var failed = false

    init(maximumDataLength: UInt32) { self.maximumDataLength = maximumDataLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !failed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: PDUCodec.headerLength),
            let (type, length) = PDUCodec.announcedLength(header)
        else { return .needMoreData }
        let limit = type == 0x04 && maximumDataLength > 0 ? maximumDataLength : (type == 0x04 ? UInt32.max : maximumOtherLength)
        guard (0x01...0x07).contains(type) else { return fail(context, &buffer, String(format: "unknown PDU type 0x%02X", type)) }
        guard length <= limit else {
            return fail(context, &buffer, "a PDU of type \(type) announces \(length) bytes, above the \(limit) allowed")
        }
        guard buffer.readableBytes >= PDUCodec.headerLength + Int(length) else { return .needMoreData }
        let bytes = buffer.readData(length: PDUCodec.headerLength + Int(length))!
        let pdu: PDU
        do {
            pdu = try PDUCodec.decode(bytes)
        } catch {
            return fail(context, &buffer, error.description)
        }
        context.fireChannelRead(Self.wrapInboundOut(.pdu(pdu)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private mutating func fail(_ context: ChannelHandlerContext, _ buffer: inout ByteBuffer, _ reason: String) -> DecodingState {
        failed = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(Self.wrapInboundOut(.invalid(reason)))
        return .needMoreData
    }
}
