public import ArgumentParser
import Foundation
import MetisProcess
import MetisDatabase
import StorageService

/// `metis backup DEST`: a consistent copy of a running installation's data.
public struct BackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract:
            "Copy the storage index and blobs, the follow-up database and the gateway's tokens and outbox into DEST (may run while Metis runs)."
    )

    @OptionGroup var common: CommonOptions
    @Argument(help: "A directory that does not exist yet.") var destination: String

    public init() {}

    public func run() throws {
        let data = try common.configuration().dataDirectory
        let target = URL(fileURLWithPath: destination, isDirectory: true)
        guard !FileManager.default.fileExists(atPath: target.path) else {
            throw ValidationError("\(target.path) exists: a backup goes into a new directory")
        }
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let storage = try StorageBackup.copy(
            from: data.appendingPathComponent("storage", isDirectory: true), to: target.appendingPathComponent("storage", isDirectory: true)
        )
        let tracking = data.appendingPathComponent("tracking/tracking.sqlite")
        if FileManager.default.fileExists(atPath: tracking.path) {
            try FileManager.default.createDirectory(at: target.appendingPathComponent("tracking"), withIntermediateDirectories: true)
            try SQLiteDatabase.backup(from: tracking.path, to: target.appendingPathComponent("tracking/tracking.sqlite").path)
        }
        // Tokens (hashes), follow-up updates not yet delivered and the arrival queue: small files, copied as they are.
        let gateway = data.appendingPathComponent("gateway", isDirectory: true)
        for item in ["tokens.json", "follow-up-outbox", "arrivals.json"]
        where FileManager.default.fileExists(atPath: gateway.appendingPathComponent(item).path) {
            try FileManager.default.createDirectory(at: target.appendingPathComponent("gateway"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: gateway.appendingPathComponent(item), to: target.appendingPathComponent("gateway/\(item)"))
        }
        let manifest: [String: String] = [
            "format": "metis-backup-1", "created": ISO8601DateFormatter().string(from: Date()), "version": MetisVersion.current,
            "source": data.path, "instances": String(storage.instances), "bytes": String(storage.bytes),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: target.appendingPathComponent("metis-backup.json"))
        var line =
            "backed up \(storage.instances) instances (\(storage.blobs) blobs, \(storage.bytes) bytes), the follow-up and the tokens into \(target.path)"
        if storage.droppedInstances > 0 { line += "; \(storage.droppedInstances) instances deleted during the backup were left out" }
        print(line)
    }
}

/// `metis restore SRC`: puts a backup in place of a data directory.
public struct RestoreCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `metis backup` into the data directory (Metis stopped; the directory new or empty).")

    @OptionGroup var common: CommonOptions
    @Argument(help: "A directory written by `metis backup`.") var source: String

    public init() {}

    public func run() throws {
        let data = try common.configuration().dataDirectory
        let backup = URL(fileURLWithPath: source, isDirectory: true)
        let manifest = backup.appendingPathComponent("metis-backup.json")
        guard let text = try? Data(contentsOf: manifest),
            let fields = try? JSONDecoder().decode([String: String].self, from: text), fields["format"] == "metis-backup-1"
        else { throw ValidationError("\(backup.path) is not a Metis backup (no valid metis-backup.json)") }
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: data.path))?.filter { $0 != "run" } ?? []
        guard existing.isEmpty else {
            throw ValidationError(
                "\(data.path) holds data (\(existing.sorted().joined(separator: ", "))): restore into a new or empty data directory, with Metis stopped"
            )
        }
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        for item in ["storage", "tracking", "gateway"]
        where FileManager.default.fileExists(atPath: backup.appendingPathComponent(item).path) {
            try FileManager.default.copyItem(at: backup.appendingPathComponent(item), to: data.appendingPathComponent(item))
        }
        print("restored the backup of \(fields["created"] ?? "?") (\(fields["instances"] ?? "?") instances) into \(data.path)")
    }
}
