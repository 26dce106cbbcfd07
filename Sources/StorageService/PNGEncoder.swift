import CZlib
import Foundation

/// Writes 8-bit greyscale or RGB PNG images (PNG 1.2: IHDR, one zlib IDAT, IEND).
enum PNGEncoder {
    static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 1) -> Data {
        precondition(pixels.count == width * height * channels && (channels == 1 || channels == 3))
        let stride = width * channels
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * height)
        for row in 0..<height {
            raw.append(0)  // filter: none
            raw.append(contentsOf: pixels[row * stride..<(row + 1) * stride])
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        _ = compress2(&compressed, &compressedLength, raw, uLong(raw.count), 6)
        var header = [UInt8]()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // bit depth 8, greyscale or RGB, deflate, adaptive filtering, no interlace
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        png.append(chunk("IHDR", header))
        png.append(chunk("IDAT", Array(compressed[0..<Int(compressedLength)])))
        png.append(chunk("IEND", []))
        return png
    }

    private static func chunk(_ type: String, _ body: [UInt8]) -> Data {
        var bytes = [UInt8]()
        bytes.appendBigEndian(UInt32(body.count))
        let typeAndBody = Array(type.utf8) + body
        bytes += typeAndBody
        bytes.appendBigEndian(UInt32(crc32(0, typeAndBody, uInt(typeAndBody.count))))
        return Data(bytes)
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
