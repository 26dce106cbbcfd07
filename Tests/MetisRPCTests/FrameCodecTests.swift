import SwiftProtobuf
import Logging
import Foundation
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import MetisRPC

@Suite("Frame codec")
struct FrameCodecTests {
    static func frame(_ id: UInt64, method: String = "metis.v1.Health/Check", payload: [UInt8] = []) -> Metis_V1_Frame {
        var frame = Metis_V1_Frame()
        frame.requestID = id
        frame.kind = .request
        frame.method = method
        frame.payload = Data(payload)
        frame.timeoutMicros = 5_000_000
        frame.metadata = ["trace-id": "t-\(id)"]
        return frame
    }

    static func encoded(_ frames: [Metis_V1_Frame]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { try FrameEncoder().encode(data: frame, out: &buffer) }
        return buffer
    }

    @Test("decodes byte by byte, in chunks and all at once (ByteToMessageDecoderVerifier)")
    func verifier() throws {
        let frames = [Self.frame(1), Self.frame(2, payload: Array(repeating: 7, count: 300)), Self.frame(3, method: "")]
        var pairs = [(ByteBuffer, [Metis_V1_Frame])]()
        for frame in frames { pairs.append((try Self.encoded([frame]), [frame])) }
        pairs.append((try Self.encoded(frames), frames))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test("length prefix is a big-endian UInt32 of the encoded frame")
    func wireLayout() throws {
        var buffer = try Self.encoded([Self.frame(9, payload: [1, 2, 3])])
        let prefix = buffer.readInteger(endianness: .big, as: UInt32.self)
        let length = try #require(prefix)
        #expect(Int(length) == buffer.readableBytes)
        let body = Data(buffer.readableBytesView)
        #expect(try Metis_V1_Frame(serializedBytes: body) == Self.frame(9, payload: [1, 2, 3]))
    }

    @Test("a length above the maximum is refused before the body arrives")
    func oversize() throws {
        var decoder = FrameDecoder(maximumFrameSize: 1024)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1025), endianness: .big)
        #expect(throws: FrameError.self) { try decoder.decodeFrame(from: &buffer) }
        do {
            var again = FrameDecoder(maximumFrameSize: 1024)
            var header = ByteBuffer()
            header.writeInteger(UInt32.max, endianness: .big)
            _ = try again.decodeFrame(from: &header)
            Issue.record("4 GiB length accepted")
        } catch {
            #expect(error.code == .tooLarge)
        }
    }

    @Test("a frame exactly at the maximum is accepted")
    func atMaximum() throws {
        let frame = Self.frame(1, payload: Array(repeating: 0xAB, count: 500))
        var buffer = try Self.encoded([frame])
        let length = Int(buffer.getInteger(at: 0, endianness: .big, as: UInt32.self)!)
        var decoder = FrameDecoder(maximumFrameSize: length)
        #expect(try decoder.decodeFrame(from: &buffer) == frame)
    }

    @Test("a stream that ends inside a frame is reported truncated")
    func truncated() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var buffer = try Self.encoded([Self.frame(1, payload: [1, 2, 3, 4])])
        buffer.moveWriterIndex(to: buffer.writerIndex - 2)
        try channel.writeInbound(buffer)
        #expect(try channel.readInbound(as: Metis_V1_Frame.self) == nil)
        #expect {
            _ = try channel.finish()
        } throws: { error in
            (error as? FrameError)?.code == .truncated
        }
    }

    @Test(
        "garbage that is not a Frame is reported malformed",
        arguments: [
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // varint that never ends
            [0x0A, 0x10, 0x01],  // length-delimited field longer than the body
            [0x07],  // wire type 7 does not exist
        ] as [[UInt8]])
    func garbage(body: [UInt8]) throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count), endianness: .big)
        buffer.writeBytes(body)
        #expect {
            _ = try decoder.decodeFrame(from: &buffer)
        } throws: { error in
            (error as? FrameError)?.code == .malformed
        }
    }

    @Test("an empty frame (length 0) decodes as the default Frame")
    func emptyFrame() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0), endianness: .big)
        #expect(try decoder.decodeFrame(from: &buffer) == Metis_V1_Frame())
    }
}
