public import NIOCore
import SwiftProtobuf

/// Writes each `Frame` as a big-endian `UInt32` length followed by its encoding.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Metis_V1_Frame

    public init() {}

    public func encode(data: Metis_V1_Frame, out: inout ByteBuffer) throws {
        let body: [UInt8] = try data.serializedBytes()
        out.reserveCapacity(minimumWritableBytes: 4 + body.count)
        out.writeInteger(UInt32(body.count), endianness: .big)
        out.writeBytes(body)
    }
}
