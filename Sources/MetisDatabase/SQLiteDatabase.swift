public import GRDB
import Foundation

/// Opens the SQLite databases of the Metis services the same way: a WAL-mode
/// `DatabasePool` whose commits are synced (`synchronous = FULL`), with
/// foreign keys on, a busy timeout, WAL checkpoints off the committing thread
/// (`WALCheckpointer`), and the service's migrations applied before anything
/// else touches it.
public enum SQLiteDatabase {
    /// A database directory the service cannot write to.
    public struct UnwritableDirectory: Error, CustomStringConvertible {
        public let description: String
    }

    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        // SQLite would only say "unable to open database file": name the cause (a read-only volume, permissions).
        let directory = (path as NSString).deletingLastPathComponent
        if access(directory, W_OK) != 0 {
            throw UnwritableDirectory(description: "the data directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        let checkpointer = WALCheckpointer(path: path)
        // The closure keeps the checkpointer alive as long as the pool's connections.
        configuration.prepareDatabase { db in checkpointer.install(on: db) }
        let database = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` with WAL: a commit would then survive a
        // process crash but not a power cut. What Metis acknowledges must survive both.
        try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        try migrator.migrate(database)
        return database
    }

    /// Row counts of `tables` and the number of applied migrations.
    public static func counts(
        of tables: [String],
        in database: DatabasePool,
        migrator: DatabaseMigrator
    ) async throws -> (rows: [String: Int], schemaVersion: Int) {
        try await database.read { db in
            var rows = [String: Int]()
            for table in tables {
                rows[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0
            }
            return (rows, try migrator.appliedIdentifiers(db).count)
        }
    }

    /// A cheap query that fails when the database is unusable.
    public static func check(_ database: DatabasePool) async throws {
        _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

extension SQLiteDatabase {
    /// A consistent copy of the database at `source` into a new file at
    /// `destination`, through SQLite's online backup API: safe while the
    /// owning service reads and writes (WAL), the copy being the state of one
    /// committed transaction.
    public static func backup(from source: String, to destination: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let reader = try DatabasePool(path: source, configuration: configuration)
        let copy = try DatabaseQueue(path: destination)
        try reader.backup(to: copy)
        try copy.close()
        try reader.close()
    }
}
