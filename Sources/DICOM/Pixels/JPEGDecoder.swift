import CPixelCodecs
import Foundation

/// JPEG (ISO 10918-1) in the four DICOM syntaxes that carry it: Baseline,
/// Extended, Lossless (process 14) and Lossless first-order prediction. The
/// stream's own frame header picks the library: 8-bit lossy streams go to
/// libjpeg-turbo; lossless streams (2–16 bits) and 12-bit lossy streams to
/// GDCM's IJG builds for their precision, which libjpeg-turbo 2.1 cannot
/// decode. Lossy YBR colour is returned as RGB (PS3.5 §8.2.1), lossless
/// colour as coded; a lossy stream labelled RGB is taken as RGB unless a JFIF
/// or Adobe marker says it is YCbCr (as pydicom and GDCM read it).
struct JPEGDecoder: FrameDecoder {
    struct FrameHeader: Equatable {
        /// SOF marker low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, …
        var process: Int
        var precision: Int
        /// A JFIF APP0 segment: colour is YCbCr.
        var hasJFIF = false
        /// The Adobe APP14 segment's transform flag (0 none, 1 YCbCr), when there is one.
        var adobeTransform: Int?
        var isLossless: Bool { process == 3 || process == 7 || process == 11 || process == 15 }
    }

    func decode(_ frame: Data, _ geometry: FrameGeometry) throws(DICOMError) -> Data {
        guard let header = Self.frameHeader(frame) else { throw geometry.fail("JPEG: no start-of-frame marker in the frame") }
        guard (2...16).contains(header.precision), header.isLossless || header.precision == 8 || header.precision == 12 else {
            throw geometry.fail("JPEG: \(header.precision)-bit samples in process \(header.process)")
        }
        let isYCbCr =
            geometry.photometricInterpretation.hasPrefix("YBR") || header.hasJFIF || (header.adobeTransform ?? 0) != 0
        let toRGB: Int32 = geometry.samplesPerPixel == 3 && !header.isLossless && isYCbCr ? 1 : 0
        let bytes = Int32(geometry.bytesPerSample)
        var (output, _) = try CodecCall.run("JPEG", frame, geometry) { source, length, destination, capacity, info, error, errorLength in
            if !header.isLossless && header.precision == 8 && (toRGB == 1 || geometry.samplesPerPixel == 1) && bytes == 1 {
                return metis_jpeg_turbo_decode(source, length, destination, capacity, toRGB, info, error, errorLength)
            }
            switch header.precision {
            case ...8: return metis_ijg8_decode(source, length, destination, capacity, bytes, toRGB, info, error, errorLength)
            case ...12: return metis_ijg12_decode(source, length, destination, capacity, bytes, toRGB, info, error, errorLength)
            default: return metis_ijg16_decode(source, length, destination, capacity, bytes, toRGB, info, error, errorLength)
            }
        }
        if geometry.isSigned { CodecCall.correctSign(&output, precision: header.precision, geometry) }
        return output
    }

    func decodedPhotometricInterpretation(_ geometry: FrameGeometry) -> String {
        geometry.samplesPerPixel == 3 && geometry.photometricInterpretation.hasPrefix("YBR_FULL")
            ? "RGB" : geometry.photometricInterpretation
    }

    /// The first SOF marker's process and sample precision.
    static func frameHeader(_ frame: Data) -> FrameHeader? {
        frame.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> FrameHeader? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = 2
            var hasJFIF = false
            var adobeTransform: Int?
            guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
            while i + 4 < bytes.count {
                guard bytes[i] == 0xFF else { return nil }
                let marker = bytes[i + 1]
                if marker == 0xFF {
                    i += 1
                    continue
                }
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    return FrameHeader(
                        process: Int(marker & 0x0F), precision: Int(bytes[i + 4]), hasJFIF: hasJFIF, adobeTransform: adobeTransform)
                }
                if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                    i += 2
                    continue
                }
                let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                guard length >= 2 else { return nil }
                let body = i + 4
                if marker == 0xE0, body + 4 < bytes.count, bytes[body..<body + 4].elementsEqual("JFIF".utf8) { hasJFIF = true }
                if marker == 0xEE, length >= 14, body + 11 < bytes.count, bytes[body..<body + 5].elementsEqual("Adobe".utf8) {
                    adobeTransform = Int(bytes[body + 11])
                }
                i += 2 + length
            }
            return nil
        }
    }
}
