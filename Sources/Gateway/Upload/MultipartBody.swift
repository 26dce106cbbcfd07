import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A multipart body (RFC 2046) split into its parts: used for
/// multipart/related (STOW-RS) and multipart/form-data uploads.
struct MultipartBody: Sendable {
    struct Part: Sendable {
        /// Header names lowercased.
        var headers: [String: String]
        var body: Data

        var contentType: MediaType? { headers["content-type"].flatMap { MediaType($0) } }

        /// The file name of a form-data part, if it names one.
        var fileName: String? {
            guard let disposition = headers["content-disposition"] else { return nil }
            return MediaType("x/" + disposition)?.parameters["filename"]
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    var parts: [Part]

    /// Splits `body` at `boundary`; at most `maximumParts` parts.
    init(_ body: Data, boundary: String, maximumParts: Int = 100_000) throws(ParseError) {
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw ParseError(description: "the multipart boundary is missing or too long")
        }
        let delimiter = Array(("--" + boundary).utf8)
        var parts = [Part]()
        let bytes = [UInt8](body)
        // The first delimiter may open the body or follow a preamble line.
        guard var position = Self.find(delimiter, in: bytes, from: 0) else {
            throw ParseError(description: "no part starts with the boundary '\(boundary)'")
        }
        guard position == 0 || (position >= 2 && bytes[position - 2] == 0x0D && bytes[position - 1] == 0x0A) else {
            throw ParseError(description: "the first boundary does not start a line")
        }
        let nextDelimiter = [0x0D, 0x0A] + delimiter
        while true {
            position += delimiter.count
            if position + 1 < bytes.count, bytes[position] == 0x2D, bytes[position + 1] == 0x2D { break }  // "--": the end
            while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
            guard position + 1 < bytes.count, bytes[position] == 0x0D, bytes[position + 1] == 0x0A else {
                throw ParseError(description: "the body ends before its closing boundary")
            }
            position += 2
            guard let headerEnd = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: bytes, from: position - 2) else {
                throw ParseError(description: "part \(parts.count + 1) has no end of headers")
            }
            var headers = [String: String]()
            if headerEnd > position - 2 {
                let text = String(decoding: bytes[position..<headerEnd], as: UTF8.self)
                for line in text.split(separator: "\r\n") {
                    guard let colon = line.firstIndex(of: ":") else {
                        throw ParseError(description: "part \(parts.count + 1) has a malformed header line")
                    }
                    headers[line[..<colon].trimmingWhitespace().lowercased()] = line[line.index(after: colon)...].trimmingWhitespace()
                }
            }
            let contentStart = headerEnd + 4
            guard let contentEnd = Self.find(nextDelimiter, in: bytes, from: contentStart) else {
                throw ParseError(description: "part \(parts.count + 1) is not closed by a boundary (truncated body?)")
            }
            parts.append(Part(headers: headers, body: Data(bytes[contentStart..<contentEnd])))
            guard parts.count <= maximumParts else { throw ParseError(description: "more than \(maximumParts) parts") }
            position = contentEnd + 2
        }
        self.parts = parts
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard start >= 0, start <= haystack.count else { return nil }
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pattern in
                // memchr finds candidates for the first byte, memcmp checks the rest.
                let base = hay.baseAddress!, first = Int32(needle[0])
                var offset = start
                while hay.count - offset >= pattern.count {
                    guard let found = memchr(base + offset, first, hay.count - offset - pattern.count + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(found))
                    if memcmp(found, pattern.baseAddress!, pattern.count) == 0 { return position }
                    offset = position + 1
                }
                return nil
            }
        }
    }
}

/// Writes multipart/related bodies part by part.
enum MultipartWriter {
    /// A boundary that no DICOM payload is likely to contain.
    static func makeBoundary() -> String { "metis-" + UUID().uuidString.lowercased() }

    /// The delimiter and headers that open a part.
    static func partHeader(boundary: String, contentType: String, length: Int, location: String? = nil) -> String {
        var header = "--\(boundary)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\n"
        if let location { header += "Content-Location: \(location)\r\n" }
        return header + "\r\n"
    }

    static func closing(boundary: String) -> String { "--\(boundary)--\r\n" }
}
