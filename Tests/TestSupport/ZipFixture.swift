import CZlib
public import Foundation

/// Writes ZIP archives for the tests: stored or raw-deflated entries.
public enum ZipFixture {
    /// A ZIP archive of `entries`, each stored or raw-deflated.
    public static func archive(_ entries: [(path: String, data: Data, deflate: Bool)]) -> Data {
        var body = [UInt8](), directory = [UInt8]()
        for entry in entries {
            let content = [UInt8](entry.data)
            let crc = UInt32(content.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
            let stored = entry.deflate ? deflateRaw(content) : content
            let name = Array(entry.path.utf8)
            let offset = body.count
            body +=
                le32(0x0403_4B50) + le16(20) + le16(0) + le16(entry.deflate ? 8 : 0) + le16(0) + le16(0)
                + le32(crc) + le32(UInt32(stored.count)) + le32(UInt32(content.count)) + le16(UInt16(name.count)) + le16(0) + name + stored
            directory +=
                le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(entry.deflate ? 8 : 0) + le16(0) + le16(0)
                + le32(crc) + le32(UInt32(stored.count)) + le32(UInt32(content.count)) + le16(UInt16(name.count)) + le16(0) + le16(0)
                + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + name
        }
        let end =
            le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(entries.count)) + le16(UInt16(entries.count))
            + le32(UInt32(directory.count)) + le32(UInt32(body.count)) + le16(0)
        return Data(body + directory + end)
    }

    private static func deflateRaw(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        var output = [UInt8](repeating: 0, count: input.count + 1024)
        var source = input
        source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                _ = deflate(&stream, Z_FINISH)
            }
        }
        let count = Int(stream.total_out)
        deflateEnd(&stream)
        return Array(output[0..<count])
    }

    private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
