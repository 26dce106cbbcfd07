import CZlib
import Foundation

/// Reads the files of a ZIP archive (PKWARE APPNOTE: stored and deflated
/// entries, CRC-checked), as a scanner's or a PACS viewer's export gives them.
/// Nothing is written to disk, so entry paths cannot escape anywhere; they
/// only name the files in reports.
struct ZipArchive: Sendable {
    struct Entry: Sendable {
        var path: String
        var data: Data
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Refusals that protect the gateway from archive bombs.
    struct Limits: Sendable {
        var maximumEntries = 100_000
        var maximumTotalSize = 8 << 30
        var maximumEntrySize = 2 << 30
    }

    /// The file entries (directories left out), in archive order.
    var entries: [Entry]

    static func looksLikeZip(_ data: Data) -> Bool { data.prefix(4).elementsEqual([0x50, 0x4B, 0x03, 0x04]) }

    init(_ data: Data, limits: Limits = Limits()) throws(ReadError) {
        let bytes = [UInt8](data)
        guard let end = Self.endOfCentralDirectory(bytes) else {
            throw ReadError(description: "not a ZIP archive: no end of central directory")
        }
        let count = Int(bytes.le16(end + 10)), directorySize = Int(bytes.le32(end + 12)), directoryOffset = Int(bytes.le32(end + 16))
        guard count != 0xFFFF, directoryOffset != 0xFFFF_FFFF else {
            throw ReadError(description: "ZIP64 archives are not supported; split the export")
        }
        guard count <= limits.maximumEntries else {
            throw ReadError(description: "the archive holds \(count) entries, more than \(limits.maximumEntries)")
        }
        guard directoryOffset + directorySize <= bytes.count else {
            throw ReadError(description: "the ZIP central directory lies past the end (truncated archive?)")
        }
        var entries = [Entry]()
        var total = 0
        var position = directoryOffset
        for _ in 0..<count {
            guard position + 46 <= bytes.count, bytes.le32(position) == 0x0201_4B50 else {
                throw ReadError(description: "the ZIP central directory is corrupt")
            }
            let flags = bytes.le16(position + 8), method = bytes.le16(position + 10)
            let crc = bytes.le32(position + 16)
            let compressedSize = Int(bytes.le32(position + 20)), size = Int(bytes.le32(position + 24))
            let nameLength = Int(bytes.le16(position + 28)), extraLength = Int(bytes.le16(position + 30))
            let commentLength = Int(bytes.le16(position + 32))
            let localOffset = Int(bytes.le32(position + 42))
            guard position + 46 + nameLength <= bytes.count else { throw ReadError(description: "the ZIP central directory is corrupt") }
            let path = String(decoding: bytes[position + 46..<position + 46 + nameLength], as: UTF8.self)
            position += 46 + nameLength + extraLength + commentLength
            if path.hasSuffix("/") { continue }
            guard flags & 1 == 0 else { throw ReadError(description: "\(path): encrypted entries are not supported") }
            guard compressedSize != 0xFFFF_FFFF, size != 0xFFFF_FFFF else {
                throw ReadError(description: "\(path): ZIP64 entries are not supported")
            }
            guard size <= limits.maximumEntrySize else {
                throw ReadError(description: "\(path): \(size) bytes, more than \(limits.maximumEntrySize)")
            }
            total += size
            guard total <= limits.maximumTotalSize else {
                throw ReadError(description: "the archive expands past \(limits.maximumTotalSize) bytes")
            }
            guard localOffset + 30 <= bytes.count, bytes.le32(localOffset) == 0x0403_4B50 else {
                throw ReadError(description: "\(path): local header missing (truncated archive?)")
            }
            let start = localOffset + 30 + Int(bytes.le16(localOffset + 26)) + Int(bytes.le16(localOffset + 28))
            guard start + compressedSize <= bytes.count else {
                throw ReadError(description: "\(path): data runs past the end (truncated archive?)")
            }
            let stored = bytes[start..<start + compressedSize]
            let content: [UInt8]
            switch method {
            case 0: content = Array(stored)
            case 8: content = try Self.inflate(stored, size: size, path: path)
            default: throw ReadError(description: "\(path): compression method \(method) is not supported (stored and deflate are)")
            }
            guard content.count == size else {
                throw ReadError(description: "\(path): \(content.count) bytes where the directory says \(size)")
            }
            let actual = content.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard actual == crc else { throw ReadError(description: "\(path): CRC mismatch (corrupt archive)") }
            entries.append(Entry(path: path, data: Data(content)))
        }
        self.entries = entries
    }

    private static func endOfCentralDirectory(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 22 else { return nil }
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if bytes.le32(position) == 0x0605_4B50 { return position }
            position -= 1
        }
        return nil
    }

    private static func inflate(_ input: ArraySlice<UInt8>, size: Int, path: String) throws(ReadError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ReadError(description: "\(path): cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        // One byte more than announced, to notice an entry that inflates past its size.
        var output = [UInt8](repeating: 0, count: size + 1)
        let source = Array(input)
        let status: Int32 = source.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ReadError(description: "\(path): deflate data is corrupt or larger than announced") }
        return Array(output[0..<Int(stream.total_out)])
    }
}

extension [UInt8] {
    fileprivate func le16(_ offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    fileprivate func le32(_ offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}
