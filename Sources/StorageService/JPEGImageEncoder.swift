import CPixelCodecs
import Foundation

/// Writes rendered frames as baseline JFIF JPEG through libjpeg-turbo (OHIF's
/// `thumbnailDirect` asks for `image/jpeg`).
enum JPEGImageEncoder {
    static let quality: Int32 = 90

    static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int) throws(StorageError) -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = metis_jpeg_turbo_encode(
            pixels, Int32(width), Int32(height), Int32(channels), quality, &output, &length, &message, message.count)
        defer { free(output) }
        guard status == METIS_CODEC_OK, let output else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw StorageError(kind: .internal, message: "JPEG encoding failed: \(text)")
        }
        return Data(bytes: output, count: length)
    }
}
