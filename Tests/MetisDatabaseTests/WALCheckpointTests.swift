import Foundation
import GRDB
import MetisDatabase
import Testing

@Suite("WAL checkpoints off the committing thread")
struct WALCheckpointTests {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "rows") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("payload", .blob).notNull()
            }
        }
        return migrator
    }()

    @Test(
        "commits are synced and leave checkpoints to the background: SQLite's automatic checkpoint is off, and the WAL still reaches the database file"
    )
    func background() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-wal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("test.sqlite").path
        let database = try SQLiteDatabase.open(path: path, migrator: Self.migrator)
        #expect(try await database.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == 0)
        // 2: FULL, every commit synced, so that an acknowledged write survives a power cut.
        #expect(try await database.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)

        func size(_ file: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 }
        let before = size(path)
        // About 1,200 pages of 4 KiB, one commit per row, as stores commit.
        let payload = Data(repeating: 7, count: 4000)
        for _ in 0..<1200 {
            try await database.write { try $0.execute(sql: "INSERT INTO rows (payload) VALUES (?)", arguments: [payload]) }
        }
        // The first background checkpoint runs once the WAL holds 1,000 frames; a one-row commit writes at most two
        // (its leaf and an interior page), so that checkpoint alone brings at least 500 new pages into the file. Later
        // checkpoints may still be running, or wait for the next commit, on a loaded machine: they are not counted.
        let deadline = ContinuousClock.now + .seconds(60)
        while size(path) < before + 500 * 4096, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(size(path) >= before + 500 * 4096, "the database file took the WAL's pages: \(before) → \(size(path)) bytes")
        #expect(try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM rows") } == 1200)
        try database.close()
    }
}
