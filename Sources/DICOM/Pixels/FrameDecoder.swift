import CPixelCodecs
import Foundation

/// What a decoder needs to know of the frame it decodes, from the data set.
struct FrameGeometry: Sendable {
    var rows: Int
    var columns: Int
    var samplesPerPixel: Int
    var bitsAllocated: Int
    var bitsStored: Int
    var isSigned: Bool
    var photometricInterpretation: String
    var syntax: String

    /// Bytes of one decoded frame: samples interleaved, `bitsAllocated / 8` bytes each.
    var decodedLength: Int { rows * columns * samplesPerPixel * max(1, bitsAllocated / 8) }
    var bytesPerSample: Int { max(1, bitsAllocated / 8) }

    func fail(_ message: String, code: DICOMError.Code = .invalidValue) -> DICOMError {
        DICOMError(code, message, tag: .pixelData, transferSyntax: syntax)
    }
}

/// One encapsulated transfer syntax's decoder: encoded frame bytes in,
/// native little-endian samples out (interleaved), in the photometric
/// interpretation `decodedPhotometricInterpretation` says.
protocol FrameDecoder: Sendable {
    func decode(_ frame: Data, _ geometry: FrameGeometry) throws(DICOMError) -> Data
    /// The photometric interpretation of decoded frames (YBR lossy JPEG comes out as RGB).
    func decodedPhotometricInterpretation(_ geometry: FrameGeometry) -> String
}

extension FrameDecoder {
    func decodedPhotometricInterpretation(_ geometry: FrameGeometry) -> String { geometry.photometricInterpretation }
}

/// The decoders Metis has, by transfer syntax UID.
enum FrameDecoders {
    static func decoder(for syntax: String) -> (any FrameDecoder)? {
        switch syntax {
        case TransferSyntax.rleLossless.uid: RLEDecoder()
        case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70":
            JPEGDecoder()
        case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81": JPEGLSDecoder()
        case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
            "1.2.840.10008.1.2.4.203":
            JPEG2000Decoder()
        default: nil
        }
    }
}

/// Calls one C shim: the frame's bytes and a zeroed output buffer of the
/// geometry's decoded length, the shim's error message and header info back.
enum CodecCall {
    typealias Shim = (
        _ source: UnsafePointer<UInt8>, _ sourceLength: Int, _ destination: UnsafeMutablePointer<UInt8>, _ destinationLength: Int,
        _ info: UnsafeMutablePointer<metis_codec_info>, _ error: UnsafeMutablePointer<CChar>, _ errorLength: Int
    ) -> Int32

    static func run(_ name: String, _ frame: Data, _ geometry: FrameGeometry, _ shim: Shim) throws(DICOMError) -> (Data, metis_codec_info) {
        // Uninitialised: every byte is written by the shim (or the call fails and the buffer is dropped).
        let length = geometry.decodedLength
        var output = Data(bytesNoCopy: malloc(max(length, 1))!, count: length, deallocator: .free)
        var info = metis_codec_info()
        var message = [CChar](repeating: 0, count: 256)
        let status: Int32 = frame.withUnsafeBytes { (source: UnsafeRawBufferPointer) -> Int32 in
            guard let base = source.bindMemory(to: UInt8.self).baseAddress else { return -1 }
            return output.withUnsafeMutableBytes { (destination: UnsafeMutableRawBufferPointer) -> Int32 in
                shim(
                    base, source.count, destination.bindMemory(to: UInt8.self).baseAddress!, destination.count, &info, &message,
                    message.count)
            }
        }
        switch status {
        case METIS_CODEC_OK: return (output, info)
        case METIS_CODEC_SIZE_MISMATCH:
            throw geometry.fail(
                "\(name) stream is \(info.width)×\(info.height), \(info.components) component(s) of \(info.precision) bits; "
                    + "the data set declares \(geometry.columns)×\(geometry.rows), \(geometry.samplesPerPixel) sample(s) "
                    + "in \(geometry.bitsAllocated)-bit containers")
        case -1: throw geometry.fail("\(name): empty frame")
        default:
            let text = Self.message(in: message)
            throw geometry.fail("\(name): \(text.isEmpty ? "decoding failed" : text)")
        }
    }

    /// A shim's NUL-terminated error message.
    static func message(in buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reinterprets each sample's low `precision` bits with the data set's
    /// signedness (pydicom's sign correction): JPEG-LS cannot code sign, and
    /// JPEG 2000 streams sometimes disagree with Pixel Representation.
    static func correctSign(_ data: inout Data, precision: Int, _ geometry: FrameGeometry) {
        let bits = geometry.bytesPerSample * 8
        guard precision > 0, precision < bits, geometry.bytesPerSample <= 2 else { return }
        let shift = bits - precision
        data.withUnsafeMutableBytes { raw in
            if geometry.bytesPerSample == 1 {
                let samples = raw.bindMemory(to: UInt8.self)
                for i in samples.indices {
                    samples[i] =
                        geometry.isSigned
                        ? UInt8(bitPattern: Int8(bitPattern: samples[i] << shift) >> shift) : (samples[i] << shift) >> shift
                }
            } else {
                let samples = raw.bindMemory(to: UInt16.self)
                for i in samples.indices {
                    let value = UInt16(littleEndian: samples[i])
                    let corrected =
                        geometry.isSigned ? UInt16(bitPattern: Int16(bitPattern: value << shift) >> shift) : (value << shift) >> shift
                    samples[i] = corrected.littleEndian
                }
            }
        }
    }
}
