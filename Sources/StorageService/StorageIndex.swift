import Foundation
import GRDB
import MetisDatabase

/// The SQLite index of stored instances (patients → studies → series →
/// instances), in WAL mode, with versioned migrations.
final class StorageIndex: Sendable {
    private let database: DatabasePool

    init(path: String) throws {
        database = try SQLiteDatabase.open(path: path, migrator: Self.migrator)
    }

    struct Counts: Sendable {
        var patients: Int
        var studies: Int
        var series: Int
        var instances: Int
        var storedBytes: Int
        var schemaVersion: Int
    }

    func counts() async throws -> Counts {
        let (rows, schemaVersion) = try await SQLiteDatabase.counts(
            of: ["patients", "studies", "series", "instances"], in: database, migrator: Self.migrator)
        let storedBytes = try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM instances") ?? 0
        }
        return Counts(
            patients: rows["patients", default: 0], studies: rows["studies", default: 0], series: rows["series", default: 0],
            instances: rows["instances", default: 0], storedBytes: storedBytes, schemaVersion: schemaVersion)
    }

    /// A cheap query that fails when the database is unusable.
    func check() async throws {
        try await SQLiteDatabase.check(database)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hierarchy") { db in
            try db.create(table: "patients") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("patient_id", .text).notNull().unique()
                t.column("patient_name", .text)
                t.column("birth_date", .text)
                t.column("sex", .text)
            }
            try db.create(table: "studies") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("study_instance_uid", .text).notNull().unique()
                t.column("patient_id", .integer).notNull().indexed().references("patients", onDelete: .cascade)
                t.column("study_date", .text)
                t.column("study_time", .text)
                t.column("study_description", .text)
                t.column("accession_number", .text)
                t.column("modalities_in_study", .text)
            }
            try db.create(table: "series") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("series_instance_uid", .text).notNull().unique()
                t.column("study_id", .integer).notNull().indexed().references("studies", onDelete: .cascade)
                t.column("modality", .text)
                t.column("series_number", .integer)
                t.column("series_description", .text)
            }
            try db.create(table: "instances") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sop_instance_uid", .text).notNull().unique()
                t.column("series_id", .integer).notNull().indexed().references("series", onDelete: .cascade)
                t.column("sop_class_uid", .text).notNull()
                t.column("instance_number", .integer)
                t.column("rows", .integer)
                t.column("columns", .integer)
                t.column("number_of_frames", .integer)
                t.column("transfer_syntax_uid", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("metadata_json", .text).notNull()
            }
        }
        return migrator
    }()
}
