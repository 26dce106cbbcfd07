import Foundation
import MetisProto
import SwiftProtobuf

/// The follow-up operations the gateway has taken on but tracking may not
/// have yet: one append-only file, `outbox.log`, in the outbox directory.
///
/// An operation counts as saved once appended and fdatasynced. Its completion
/// is appended without a sync: should a crash lose it, the operation is sent
/// again, and tracking takes it as the same change. The file is emptied
/// whenever nothing is outstanding. No file is made per operation, so saving
/// costs one write and one fdatasync, and no directory sync.
///
/// Entries: a little-endian `UInt32` length of what follows, a kind byte
/// (`R` record, `F` forget, `D` done), a little-endian `UInt64` sequence
/// number, and the payload (the record request, or the forgotten study's UID).
/// A torn last entry (a crash mid-append) is cut off when the file is opened.
final class FollowUpOutbox {
    struct OutboxError: Error, CustomStringConvertible {
        let description: String
    }

    /// Operations a previous run left undone, oldest first, numbered from 1.
    private(set) var recovered: [(sequence: Int, operation: FollowUpRecorder.Operation)] = []
    private let file: URL
    private let descriptor: Int32

    /// Opens (or creates) the outbox in `directory`. What a previous run left
    /// — in this file, or as the `.pending` files of earlier versions — is
    /// rewritten as a fresh log of the undone operations, the latest per study.
    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        file = directory.appendingPathComponent("outbox.log")
        var latest = [String: (sequence: Int, operation: FollowUpRecorder.Operation)]()
        var done = Set<Int>()
        if let data = FileManager.default.contents(atPath: file.path) {
            for entry in Self.entries(in: data) {
                switch entry {
                case .operation(let sequence, let operation):
                    if sequence > latest[operation.study]?.sequence ?? 0 { latest[operation.study] = (sequence, operation) }
                case .done(let sequence):
                    done.insert(sequence)
                }
            }
        }
        var undone = latest.values.filter { !done.contains($0.sequence) }.sorted { $0.sequence < $1.sequence }.map(\.operation)
        let legacy = ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "pending" }
        for url in legacy {
            guard let data = try? Data(contentsOf: url), let operation = Self.legacyOperation(data), latest[operation.study] == nil else {
                continue
            }
            undone.append(operation)
        }
        var log = Data()
        for (index, operation) in undone.enumerated() {
            recovered.append((index + 1, operation))
            log.append(Self.encode(.operation(sequence: index + 1, operation)))
        }
        try DurableFile.replace(file, with: log)
        for url in legacy { try? FileManager.default.removeItem(at: url) }
        descriptor = open(file.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw OutboxError(description: "cannot open \(file.path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(descriptor)
    }

    /// Saves an operation durably.
    func append(_ operation: FollowUpRecorder.Operation, sequence: Int) throws {
        try write(Self.encode(.operation(sequence: sequence, operation)))
        guard fdatasync(descriptor) == 0 else {
            throw OutboxError(description: "cannot sync \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Notes that operation `sequence` reached tracking (or was refused for good).
    func markDone(_ sequence: Int) throws {
        try write(Self.encode(.done(sequence: sequence)))
    }

    /// Empties the log: nothing in it is outstanding.
    func clear() {
        ftruncate(descriptor, 0)
    }

    private func write(_ data: Data) throws {
        let complete = data.withUnsafeBytes { bytes -> Bool in
            var written = 0
            while written < bytes.count {
                let n = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        guard complete else { throw OutboxError(description: "cannot append to \(file.path): \(String(cString: strerror(errno)))") }
    }

    enum Entry {
        case operation(sequence: Int, FollowUpRecorder.Operation)
        case done(sequence: Int)
    }

    static func encode(_ entry: Entry) -> Data {
        let kind: UInt8, sequence: Int
        var payload = Data()
        switch entry {
        case .operation(let number, .record(let request)):
            (kind, sequence) = (UInt8(ascii: "R"), number)
            payload = (try? request.serializedBytes()) ?? Data()
        case .operation(let number, .forget(let study)):
            (kind, sequence) = (UInt8(ascii: "F"), number)
            payload = Data(study.utf8)
        case .done(let number):
            (kind, sequence) = (UInt8(ascii: "D"), number)
        }
        var data = Data()
        withUnsafeBytes(of: UInt32(1 + 8 + payload.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(kind)
        withUnsafeBytes(of: UInt64(sequence).littleEndian) { data.append(contentsOf: $0) }
        data.append(payload)
        return data
    }

    /// The entries of a log, up to the first one that is torn or unreadable.
    static func entries(in data: Data) -> [Entry] {
        let bytes = [UInt8](data)
        var entries = [Entry](), offset = 0
        func integer(_ at: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        }
        while offset + 4 <= bytes.count {
            let length = Int(integer(offset, 4))
            guard length >= 9, offset + 4 + length <= bytes.count else { break }
            let kind = bytes[offset + 4]
            let sequence = Int(clamping: integer(offset + 5, 8))
            let payload = Data(bytes[(offset + 13)..<(offset + 4 + length)])
            switch kind {
            case UInt8(ascii: "R"):
                guard let request = try? Metis_V1_RecordStudyRequest(serializedBytes: payload) else { return entries }
                entries.append(.operation(sequence: sequence, .record(request)))
            case UInt8(ascii: "F"):
                entries.append(.operation(sequence: sequence, .forget(String(decoding: payload, as: UTF8.self))))
            case UInt8(ascii: "D"):
                entries.append(.done(sequence: sequence))
            default:
                return entries
            }
            offset += 4 + length
        }
        return entries
    }

    /// An operation in the one-file-per-study format of earlier versions.
    private static func legacyOperation(_ data: Data) -> FollowUpRecorder.Operation? {
        guard let kind = data.first else { return nil }
        let body = data.dropFirst()
        switch kind {
        case UInt8(ascii: "R"): return (try? Metis_V1_RecordStudyRequest(serializedBytes: Array(body))).map { .record($0) }
        case UInt8(ascii: "F"): return .forget(String(decoding: body, as: UTF8.self))
        default: return nil
        }
    }
}
