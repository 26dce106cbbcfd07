import CLibCrypto
import Digest
public import Foundation
import Synchronization

/// The gateway's access tokens, in `<data>/gateway/tokens.json`: only each
/// token's SHA-256 is kept, never the token. `metis token create|revoke|list`
/// change the file (written to a temporary file, fsynced, renamed); the
/// gateway reads it again when its modification time or size changes, so a
/// revocation takes effect at the next request.
public final class TokenStore: Sendable {
    /// One token as stored.
    public struct Record: Codable, Sendable, Equatable {
        /// The first 12 hex digits of the hash: names the token in lists and for revocation.
        public var id: String
        public var role: AccessRole
        public var label: String
        public var created: Date
        var sha256: String
    }

    public struct StoreError: Error, CustomStringConvertible {
        public let description: String
    }

    public let file: URL
    private let cache = Mutex<(stamp: [Int64], records: [Record])?>(nil)

    public init(file: URL) { self.file = file }

    /// Every token, including none when the file does not exist yet.
    public func records() throws -> [Record] {
        let stamp = Self.stamp(of: file)
        if let cached = cache.withLock({ $0 }), cached.stamp == stamp { return cached.records }
        guard !stamp.isEmpty else { return [] }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw StoreError(description: "cannot read the token file \(file.path): \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let records = try? decoder.decode([Record].self, from: data) else {
            throw StoreError(description: "the token file \(file.path) is not a valid token list")
        }
        cache.withLock { $0 = (stamp, records) }
        return records
    }

    /// The token an `Authorization: Bearer …` header carries.
    static func bearerToken(from header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
        return header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
    }

    /// The token's record when it is known.
    public func authenticate(_ token: String) throws -> Record? {
        let digest = Digest.sha256(token)
        return try records().first { $0.sha256 == digest }
    }

    /// A new token for `role`; the token itself is returned once and never stored.
    public func create(role: AccessRole, label: String) throws -> (token: String, record: Record) {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { throw StoreError(description: "no random bytes for a token") }
        let token =
            "metis_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let digest = Digest.sha256(token)
        let record = Record(id: String(digest.prefix(12)), role: role, label: label, created: Date(), sha256: digest)
        try write(try records() + [record])
        return (token, record)
    }

    /// Removes the token whose id (or a unique prefix of it, at least 6 digits) is given.
    @discardableResult
    public func revoke(id: String) throws -> Record {
        let all = try records()
        let matching = all.filter { id.count >= 6 && $0.id.hasPrefix(id.lowercased()) }
        guard matching.count == 1, let record = matching.first else {
            throw StoreError(description: matching.isEmpty ? "no token \(id)" : "\(id) names several tokens: give more digits")
        }
        try write(all.filter { $0.id != record.id })
        return record
    }

    private func write(_ records: [Record]) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.replace(file, with: try encoder.encode(records), permissions: 0o600)
        cache.withLock { $0 = nil }
    }

    /// Modification time (ns) and size; empty when the file is missing.
    private static func stamp(of file: URL) -> [Int64] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
            let modified = attributes[.modificationDate] as? Date
        else { return [] }
        return [
            Int64((modified.timeIntervalSince1970 * 1e9).rounded()), (attributes[.size] as? NSNumber)?.int64Value ?? -1,
            (attributes[.systemFileNumber] as? NSNumber)?.int64Value ?? -1,
        ]
    }
}
