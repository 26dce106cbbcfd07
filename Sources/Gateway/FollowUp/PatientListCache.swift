import HTTPTypes
import Hummingbird
import MetisProto
import SwiftProtobuf
import Synchronization

/// The patient list routes' JSON, kept with the tracking revision it was
/// written from. Every request still asks metis-tracking, naming that
/// revision: the service answers `unchanged` (no patients sent, none
/// decoded or written again) or the new list. Clients get the same revision
/// as an ETag and a 304 when theirs is current.
final class PatientListCache: Sendable {
    /// Which route and page.
    struct Key: Hashable, Sendable {
        var original: Bool
        var limit: UInt32
        var offset: UInt32
    }

    private let entries = Mutex<[Key: (revision: String, body: ByteBuffer)]>([:])
    private let capacity: Int

    init(capacity: Int = 32) { self.capacity = capacity }

    /// The route's response: from the cache when the list is unchanged, else
    /// from `list` written by `write`, which then replaces the cached one.
    func response(
        for key: Key, ifNoneMatch: String?, tracking: Metis_V1_Tracking.Client,
        write: (Metis_V1_PatientList) -> ByteBuffer
    ) async throws -> Response {
        let cached = entries.withLock { $0[key] }
        let list = try await calling("metis-tracking") {
            try await tracking.listPatients(
                .with {
                    $0.limit = key.limit
                    $0.offset = key.offset
                    $0.knownRevision = cached?.revision ?? ""
                })
        }
        let body: ByteBuffer
        if list.unchanged, let cached, cached.revision == list.revision {
            body = cached.body
        } else {
            body = write(list)
            entries.withLock { entries in
                if entries[key] == nil, entries.count >= capacity { entries.removeAll() }
                entries[key] = (list.revision, body)
            }
        }
        let tag = "\"\(list.revision)-\(key.original ? "o" : "p")-\(key.limit)-\(key.offset)\""
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .eTag: tag, .cacheControl: "private, no-cache"]
        if let ifNoneMatch,
            ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingWhitespace() == tag || $0.trimmingWhitespace() == "*" })
        {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
