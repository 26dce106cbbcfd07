import CZlib
import Foundation

/// Raw-deflate decompression of a Deflated Explicit VR Little Endian data set
/// (PS3.5 §A.5), bounded so that a small file cannot inflate without limit.
enum Inflater {
    static func inflate(_ input: Data, limit: Int, syntax: String) throws(DICOMError) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DICOMError(.deflate, "cannot initialise zlib", transferSyntax: syntax)
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let source = [UInt8](input)
        var status: Int32 = Z_OK
        source.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    output.append(buffer.baseAddress!, count: buffer.count - Int(stream.avail_out))
                }
            } while status == Z_OK && output.count <= limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard output.count <= limit else {
            throw DICOMError(.valueTooLarge, "deflated data set inflates past \(limit) bytes", transferSyntax: syntax)
        }
        guard status == Z_STREAM_END || (status == Z_OK && stream.avail_in == 0) || status == Z_BUF_ERROR else {
            throw DICOMError(.deflate, "deflated data set does not inflate (zlib status \(status))", transferSyntax: syntax)
        }
        return output
    }
}
