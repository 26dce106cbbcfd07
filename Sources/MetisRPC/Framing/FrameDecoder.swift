public import NIOCore
import SwiftProtobuf

/// Splits a byte stream into `Frame`s: a big-endian `UInt32` length, then that
/// many bytes of an encoded `Metis_V1_Frame`. A length above `maximumFrameSize`
/// is refused before its body is read.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Metis_V1_Frame

    /// Default largest frame accepted: 64 MiB.
    public static let defaultMaximumFrameSize = 64 * 1024 * 1024

    private enum State {
        case waitingForLength
        case waitingForBody(length: Int)
    }

    private var state = State.waitingForLength
    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = FrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decodeFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let pending = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: pending)
            throw FrameError(code: .truncated, message: "connection closed inside a frame (\(pending) bytes pending)")
        }
        return .needMoreData
    }

    /// Decodes one frame from `buffer` if it holds a whole one.
    mutating func decodeFrame(from buffer: inout ByteBuffer) throws(FrameError) -> Metis_V1_Frame? {
        if case .waitingForLength = state {
            guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return nil }
            guard Int(length) <= maximumFrameSize else {
                throw FrameError(
                    code: .tooLarge,
                    message: "frame of \(length) bytes exceeds the maximum of \(maximumFrameSize) bytes"
                )
            }
            state = .waitingForBody(length: Int(length))
        }
        guard case .waitingForBody(let length) = state, let body = buffer.readSlice(length: length) else {
            return nil
        }
        state = .waitingForLength
        do {
            return try body.withUnsafeReadableBytes { try Metis_V1_Frame(serializedBytes: $0) }
        } catch {
            throw FrameError(code: .malformed, message: "frame of \(length) bytes is not a valid metis.v1.Frame: \(error)")
        }
    }
}

/// Why a byte stream could not be read as frames. The connection that sent it is closed.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case tooLarge, malformed, truncated
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The length prefix is above the maximum frame size.
        public static let tooLarge = Code(.tooLarge)
        /// The body is not an encoded Frame.
        public static let malformed = Code(.malformed)
        /// The stream ended inside a frame.
        public static let truncated = Code(.truncated)

        public var description: String {
            switch wrapped {
            case .tooLarge: "frame too large"
            case .malformed: "malformed frame"
            case .truncated: "truncated frame"
            }
        }
    }

    public let code: Code
    public let message: String

    public var description: String { "\(code): \(message)" }
}
