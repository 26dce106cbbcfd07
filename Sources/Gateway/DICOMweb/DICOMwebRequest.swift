import Foundation
import HTTPTypes
import Hummingbird

/// What DICOMweb handlers read from a request: the service root URL, the
/// decoded query parameters and the Accept ranges.
struct DICOMwebRequest: Sendable {
    /// `http://host:port/dicom-web`, as the client addressed the gateway.
    let root: String
    /// Query parameters in order, percent-decoded (`+` is a space).
    let query: [(name: String, value: String)]
    let accept: [MediaType]

    init(_ request: Request) {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? request.head.scheme ?? "http"
        root = "\(scheme)://\(host)/dicom-web"
        query = Self.decodeQuery(request.uri.query ?? "")
        accept = MediaType.acceptList(request.headers[.accept])
    }

    static func decodeQuery(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").compactMap { pair in
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            guard let name = pieces.first, !name.isEmpty else { return nil }
            return (decode(name), pieces.count > 1 ? decode(pieces[1]) : "")
        }
    }

    /// Whether the client takes `essence` (no Accept header takes anything).
    func accepts(_ essence: String) -> Bool {
        accept.isEmpty || accept.contains { $0.accepts(essence) }
    }

    /// Refuses with 406 unless the client takes one of `essences`.
    func require(oneOf essences: [String]) throws(HTTPError) {
        guard essences.contains(where: accepts) else {
            throw HTTPError(
                .notAcceptable,
                message:
                    "this resource is available as \(essences.joined(separator: " or ")); Accept asked for \(accept.map(\.essence).joined(separator: ", "))"
            )
        }
    }

    /// The first of `essences` the client takes, in the order of its Accept
    /// ranges (the first of `essences` when it states none); 406 otherwise.
    func preferred(of essences: [String]) throws(HTTPError) -> String {
        if accept.isEmpty { return essences[0] }
        for range in accept {
            if let essence = essences.first(where: { range.accepts($0) }) { return essence }
        }
        try require(oneOf: essences)
        return essences[0]
    }

    /// Refuses with 406 unless the client takes multipart/related with part type `type`
    /// (or takes the bare `type`, or anything).
    func requireMultipart(of type: String) throws(HTTPError) {
        if accept.isEmpty { return }
        let fits = accept.contains { range in
            if range.essence == "*/*" || range.essence == "multipart/*" && range.parameters["type"] == nil { return true }
            if range.essence == "multipart/related" {
                guard let partType = range.parameters["type"].flatMap({ MediaType($0) }) else { return true }
                return partType.accepts(type)
            }
            return range.accepts(type)
        }
        guard fits else {
            throw HTTPError(
                .notAcceptable,
                message:
                    "this resource is available as multipart/related; type=\"\(type)\"; Accept asked for \(accept.map(\.essence).joined(separator: ", "))"
            )
        }
    }
}

/// DICOM JSON responses.
enum DICOMJSONResponse {
    static let contentType = "application/dicom+json"

    /// A JSON array of already-encoded DICOM JSON objects.
    static func array(_ objects: [String], status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(objects.reduce(2) { $0 + $1.utf8.count + 1 })
        buffer.writeString("[")
        for (index, object) in objects.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeString(object)
        }
        buffer.writeString("]")
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: buffer))
    }

    static func object(_ json: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
