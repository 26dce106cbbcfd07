import Digest
public import Foundation
import GRDB
import MetisDatabase

/// A consistent copy of a storage directory while metis-storage runs: the
/// index first (SQLite online backup: one committed state), then every blob
/// that state references (blobs are immutable, named by their SHA-256, and
/// checked against it). An instance deleted between the two steps has lost
/// its blob: its rows are dropped from the copy, which the summary reports.
public enum StorageBackup {
    public struct Summary: Sendable {
        public var instances: Int
        public var blobs: Int
        public var bytes: Int
        /// Instances deleted while the backup ran, left out of it.
        public var droppedInstances: Int
    }

    public struct BackupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Copies `<source>` (a storage directory: `index.sqlite`, `blobs/`) into `destination`, which must not exist.
    public static func copy(from source: URL, to destination: URL) throws -> Summary {
        let index = source.appendingPathComponent("index.sqlite").path
        guard FileManager.default.fileExists(atPath: index) else { throw BackupError(description: "no storage index at \(index)") }
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let copiedIndex = destination.appendingPathComponent("index.sqlite").path
        try SQLiteDatabase.backup(from: index, to: copiedIndex)

        let database = try DatabaseQueue(path: copiedIndex)
        defer { try? database.close() }
        let hashes = try database.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM instances") }
        let sourceBlobs = try BlobStore(directory: source.appendingPathComponent("blobs", isDirectory: true))
        let copiedBlobs = try BlobStore(directory: destination.appendingPathComponent("blobs", isDirectory: true))
        var missing = [String]()
        var bytes = 0
        for hash in hashes {
            guard let data = FileManager.default.contents(atPath: sourceBlobs.url(for: hash).path) else {
                missing.append(hash)
                continue
            }
            guard Digest.sha256(data) == hash else {
                throw BackupError(description: "blob \(hash) does not match its hash: the stored file is damaged")
            }
            do {
                try copiedBlobs.write(data, sha256: hash)
            } catch {
                throw BackupError(description: "cannot write blob \(hash) into \(destination.path): \(error)")
            }
            bytes += data.count
        }
        let dropped = try database.write { db in
            var dropped = 0
            for hash in missing {
                try db.execute(sql: "DELETE FROM instances WHERE sha256 = ?", arguments: [hash])
                dropped += db.changesCount
            }
            try db.execute(sql: "DELETE FROM series WHERE id NOT IN (SELECT series_id FROM instances)")
            try db.execute(sql: "DELETE FROM studies WHERE id NOT IN (SELECT study_id FROM series)")
            try db.execute(sql: "DELETE FROM patients WHERE id NOT IN (SELECT patient_id FROM studies)")
            return dropped
        }
        let instances = try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instances") ?? 0 }
        try? FileManager.default.removeItem(at: destination.appendingPathComponent("tmp"))
        return Summary(instances: instances, blobs: hashes.count - missing.count, bytes: bytes, droppedInstances: dropped)
    }
}
