import Foundation
import GRDB
import MetisDatabase
import MetisProto
import Synchronization

/// The follow-up database: patients, studies, lesions and the tracks that
/// follow one metastasis across studies. WAL mode, versioned migrations.
final class TrackingDatabase: Sendable {
    let database: DatabasePool
    /// The whole patient list as of a database revision.
    let patientListCache = Mutex<(revision: Int64, patients: [Metis_V1_TrackedPatient])?>(nil)
    /// Part of every list revision this instance gives out, so that one given
    /// before a restart (or a restore from a backup) never matches a later list.
    let instance = UInt64.random(in: 1...UInt64.max)

    init(path: String) throws {
        database = try SQLiteDatabase.open(path: path, migrator: Self.migrator)
    }

    struct Counts: Sendable {
        var patients: Int
        var studies: Int
        var lesions: Int
        var tracks: Int
        var schemaVersion: Int
    }

    func counts() async throws -> Counts {
        let (rows, schemaVersion) = try await SQLiteDatabase.counts(
            of: ["patients", "studies", "lesions", "tracks"], in: database, migrator: Self.migrator)
        return Counts(
            patients: rows["patients", default: 0], studies: rows["studies", default: 0], lesions: rows["lesions", default: 0],
            tracks: rows["tracks", default: 0], schemaVersion: schemaVersion)
    }

    /// A cheap query that fails when the database is unusable.
    func check() async throws {
        try await SQLiteDatabase.check(database)
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-follow-up") { db in
            try db.create(table: "patients") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("patient_id", .text).notNull().unique()
                t.column("patient_name", .text)
                t.column("birth_date", .text)
                t.column("sex", .text)
            }
            try db.create(table: "studies") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("patient_id", .integer).notNull().indexed().references("patients", onDelete: .cascade)
                t.column("study_instance_uid", .text).notNull().unique()
                t.column("series_instance_uid", .text).notNull()
                t.column("structure_set_sop_instance_uid", .text)
                t.column("study_date", .text)
                t.column("engine", .text).notNull()
                t.column("model_version", .text)
                t.column("slice_thickness_mm", .double)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "tracks") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("patient_id", .integer).notNull().indexed().references("patients", onDelete: .cascade)
                t.column("first_seen_study_id", .integer).references("studies", onDelete: .setNull)
                t.column("last_seen_study_id", .integer).references("studies", onDelete: .setNull)
                t.column("status", .text).notNull().check { ["present", "resolved", "new"].contains($0) }
            }
            try db.create(table: "lesions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("study_id", .integer).notNull().indexed().references("studies", onDelete: .cascade)
                t.column("track_id", .integer).indexed().references("tracks", onDelete: .setNull)
                t.column("roi_number", .integer).notNull()
                t.column("label", .text).notNull()
                t.column("volume_mm3", .double).notNull()
                t.column("longest_diameter_mm", .double).notNull()
                t.column("longest_axial_diameter_mm", .double).notNull()
                t.column("perpendicular_diameter_mm", .double).notNull()
                t.column("first_slice", .integer).notNull()
                t.column("last_slice", .integer).notNull()
                t.column("centroid_x_mm", .double).notNull()
                t.column("centroid_y_mm", .double).notNull()
                t.column("centroid_z_mm", .double).notNull()
                t.column("mean_intensity", .double)
                t.uniqueKey(["study_id", "roi_number"])
            }
        }
        migrator.registerMigration("v2-alignment") { db in
            // The head's centroid aligns a patient's examinations before their lesions are matched.
            try db.alter(table: "studies") { t in
                t.add(column: "head_centroid_x_mm", .double)
                t.add(column: "head_centroid_y_mm", .double)
                t.add(column: "head_centroid_z_mm", .double)
            }
            try db.create(index: "studies_by_date", on: "studies", columns: ["patient_id", "study_date"])
        }
        migrator.registerMigration("v3-revision") { db in
            // Bumped by every change to patients or studies, so that a reader can tell whether its cached patient list is current.
            try db.execute(sql: "CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO revision (id, value) VALUES (1, 0)")
            for table in ["patients", "studies"] {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    try db.execute(
                        sql:
                            "CREATE TRIGGER \(table)_\(event.lowercased())_revision AFTER \(event) ON \(table) BEGIN UPDATE revision SET value = value + 1; END"
                    )
                }
            }
        }
        return migrator
    }()
}
