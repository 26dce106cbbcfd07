import DICOM
import Foundation
import MetisProto
import GRDB
import MetisDatabase

/// The SQLite index of stored instances (patients → studies → series →
/// instances), in WAL mode, with versioned migrations.
final class StorageIndex: Sendable {
    let database: DatabasePool

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
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(size), 0) FROM instances")) ?? 0
        }
        return Counts(
            patients: rows["patients", default: 0], studies: rows["studies", default: 0], series: rows["series", default: 0],
            instances: rows["instances", default: 0], storedBytes: storedBytes, schemaVersion: schemaVersion)
    }

    /// The stored version of an instance, if any.
    struct StoredInstance: Sendable {
        var sha256: String
        var size: Int
        var studyInstanceUID: String
        var seriesInstanceUID: String
    }

    /// Blocking: for the disk threads.
    func instance(_ sopInstanceUID: String) throws -> StoredInstance? {
        try database.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT i.sha256, i.size, st.study_instance_uid, se.series_instance_uid FROM instances i
                        JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
                        WHERE i.sop_instance_uid = ?
                        """), arguments: [sopInstanceUID]
            ).map { StoredInstance(sha256: $0[0], size: $0[1], studyInstanceUID: $0[2], seriesInstanceUID: $0[3]) }
        }
    }

    /// What recording an instance did.
    enum RecordOutcome: Sendable, Equatable {
        case stored
        /// The same SOP Instance UID with the same bytes was there already; nothing changed.
        case alreadyStored
        /// The row now points at the new bytes; `previous` is the hash it pointed at.
        case replaced(previous: String)
    }

    /// Records an instance (and its patient, study and series) in one
    /// transaction, which also decides, atomically, whether the SOP Instance
    /// UID is new, the same bytes again, or a conflict: refused unless
    /// `overwrite`. Blocking: for the disk threads.
    func record(_ instance: IndexedInstance, overwrite: Bool) throws -> RecordOutcome {
        try database.write { db -> RecordOutcome in
            let existing = try String.fetchOne(
                db.cachedStatement(sql: "SELECT sha256 FROM instances WHERE sop_instance_uid = ?"), arguments: [instance.sopInstanceUID])
            if existing == instance.sha256 { return .alreadyStored }
            if let existing, !overwrite {
                throw StorageError(
                    kind: .conflict, refusal: .duplicateSopInstance,
                    message: "SOP Instance UID \(instance.sopInstanceUID) is already stored with other content (sha256 \(existing))")
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO patients (patient_id, patient_name, patient_name_folded, patient_name_words, birth_date, sex)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(patient_id) DO UPDATE SET
                      patient_name = COALESCE(excluded.patient_name, patient_name),
                      patient_name_folded = COALESCE(excluded.patient_name_folded, patient_name_folded),
                      patient_name_words = COALESCE(excluded.patient_name_words, patient_name_words),
                      birth_date = COALESCE(excluded.birth_date, birth_date), sex = COALESCE(excluded.sex, sex)
                    """
            ).execute(arguments: [
                instance.patientID, instance.patientName, PersonNameFolding.caseFolded(instance.patientName),
                PersonNameFolding.words(instance.patientName), instance.patientBirthDate, instance.patientSex,
            ])
            let patient = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM patients WHERE patient_id = ?"), arguments: [instance.patientID])!
            try db.cachedStatement(
                sql: """
                    INSERT INTO studies (study_instance_uid, patient_id, study_date, study_time, study_description, accession_number,
                                         modalities_in_study, referring_physician_name, study_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(study_instance_uid) DO NOTHING
                    """
            ).execute(arguments: [
                instance.studyInstanceUID, patient, instance.studyDate, instance.studyTime, instance.studyDescription,
                instance.accessionNumber, instance.modality ?? "", instance.referringPhysicianName, instance.studyID,
            ])
            let study = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, patient_id, modalities_in_study FROM studies WHERE study_instance_uid = ?"),
                arguments: [instance.studyInstanceUID])!
            // Each instance must answer under its own UIDs: a study of another patient, or a series of another
            // study, is refused before anything is acknowledged (the transaction rolls back).
            if study["patient_id"] as Int != patient {
                let owner =
                    try String.fetchOne(
                        db.cachedStatement(sql: "SELECT patient_id FROM patients WHERE id = ?"), arguments: [study["patient_id"] as Int])
                    ?? "?"
                throw StorageError(
                    kind: .conflict, refusal: .conflictingHierarchy,
                    message:
                        "study \(instance.studyInstanceUID) is stored for patient ID '\(owner)'; instance \(instance.sopInstanceUID) names patient ID '\(instance.patientID)'"
                )
            }
            if let modality = instance.modality, !modality.isEmpty {
                let modalities = (study["modalities_in_study"] as String? ?? "").split(separator: "\\").map(String.init)
                if !modalities.contains(modality) {
                    try db.cachedStatement(sql: "UPDATE studies SET modalities_in_study = ? WHERE id = ?").execute(arguments: [
                        (modalities + [modality]).filter { !$0.isEmpty }.joined(separator: "\\"), study["id"] as Int,
                    ])
                }
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO series (series_instance_uid, study_id, modality, series_number, series_description, series_date, series_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(series_instance_uid) DO NOTHING
                    """
            ).execute(arguments: [
                instance.seriesInstanceUID, study["id"] as Int, instance.modality, instance.seriesNumber, instance.seriesDescription,
                instance.seriesDate, instance.seriesTime,
            ])
            let seriesRow = try Row.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT series.id, studies.study_instance_uid FROM series JOIN studies ON studies.id = series.study_id WHERE series_instance_uid = ?"
                ), arguments: [instance.seriesInstanceUID])!
            let series: Int = seriesRow["id"]
            if let owner: String = seriesRow["study_instance_uid"], owner != instance.studyInstanceUID {
                throw StorageError(
                    kind: .conflict, refusal: .conflictingHierarchy,
                    message:
                        "series \(instance.seriesInstanceUID) is stored in study \(owner); instance \(instance.sopInstanceUID) names study \(instance.studyInstanceUID)"
                )
            }
            if let source = instance.segmentationSource {
                try db.cachedStatement(sql: "UPDATE series SET segmentation_source = ? WHERE id = ?").execute(arguments: [source, series])
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO instances (sop_instance_uid, series_id, sop_class_uid, instance_number, rows, columns, number_of_frames,
                                           transfer_syntax_uid, size, sha256, metadata_json, pixel_data_offset, frame_length)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(sop_instance_uid) DO UPDATE SET series_id = excluded.series_id, sop_class_uid = excluded.sop_class_uid,
                      instance_number = excluded.instance_number, rows = excluded.rows, columns = excluded.columns,
                      number_of_frames = excluded.number_of_frames, transfer_syntax_uid = excluded.transfer_syntax_uid,
                      size = excluded.size, sha256 = excluded.sha256, metadata_json = excluded.metadata_json,
                      pixel_data_offset = excluded.pixel_data_offset, frame_length = excluded.frame_length
                    """
            ).execute(arguments: [
                instance.sopInstanceUID, series, instance.sopClassUID, instance.instanceNumber, instance.rows, instance.columns,
                instance.numberOfFrames, instance.transferSyntaxUID, instance.size, instance.sha256, instance.metadataJSON,
                instance.pixelDataOffset, instance.frameLength,
            ])
            return existing.map { .replaced(previous: $0) } ?? .stored
        }
    }

    /// The hashes of `hashes` that some row still references. Blocking: for the disk threads.
    func referenced(_ hashes: some Collection<String>) throws -> Set<String> {
        guard !hashes.isEmpty else { return [] }
        return try database.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT sha256 FROM instances WHERE sha256 IN (SELECT value FROM json_each(?))",
                    arguments: [String(decoding: try JSONEncoder().encode(Array(hashes)), as: UTF8.self)]))
        }
    }

    /// Removes a study's (or one series') rows in one transaction, and patients
    /// left without studies; returns the blobs (hash, size) the rows referenced.
    /// Blocking: for the disk threads.
    func delete(study: String, series: String? = nil) throws -> [(sha256: String, size: Int)] {
        try database.write { db in
            var filter = "st.study_instance_uid = ?"
            var arguments: StatementArguments = [study]
            if let series {
                filter += " AND se.series_instance_uid = ?"
                arguments += [series]
            }
            let blobs = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT i.sha256, i.size FROM instances i JOIN series se ON se.id = i.series_id
                        JOIN studies st ON st.id = se.study_id WHERE \(filter)
                        """), arguments: arguments
            ).map { (sha256: $0[0] as String, size: $0[1] as Int) }
            let patient = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT patient_id FROM studies WHERE study_instance_uid = ?"), arguments: [study])
            if let series {
                try db.cachedStatement(sql: "DELETE FROM series WHERE series_instance_uid = ?").execute(arguments: [series])
                try db.cachedStatement(
                    sql:
                        "DELETE FROM studies WHERE study_instance_uid = ? AND NOT EXISTS (SELECT 1 FROM series WHERE series.study_id = studies.id)"
                ).execute(arguments: [study])
            } else {
                try db.cachedStatement(sql: "DELETE FROM studies WHERE study_instance_uid = ?").execute(arguments: [study])
            }
            // Only this study's patient can have been left without studies.
            try db.cachedStatement(
                sql: "DELETE FROM patients WHERE id = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE studies.patient_id = patients.id)"
            )
            .execute(arguments: [patient])
            return blobs
        }
    }

    /// Whether a study (and, if given, a series of it) is indexed. Blocking: for the disk threads.
    func exists(study: String, series: String? = nil) throws -> Bool {
        try database.read { db in
            if let series {
                return try Bool.fetchOne(
                    db.cachedStatement(
                        sql:
                            "SELECT EXISTS (SELECT 1 FROM series se JOIN studies st ON st.id = se.study_id WHERE st.study_instance_uid = ? AND se.series_instance_uid = ?)"
                    ),
                    arguments: [study, series]) ?? false
            }
            return try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM studies WHERE study_instance_uid = ?)"), arguments: [study]) ?? false
        }
    }

    /// Every blob hash the index references.
    func allHashes() async throws -> Set<String> {
        try await database.read { db in Set(try String.fetchAll(db.cachedStatement(sql: "SELECT sha256 FROM instances"))) }
    }

    /// Drops rows whose blob is gone (none should be: a blob is durable before its row).
    func removeInstances(withHashes hashes: Set<String>) async throws -> Int {
        guard !hashes.isEmpty else { return 0 }
        return try await database.write { db in
            for hash in hashes { try db.cachedStatement(sql: "DELETE FROM instances WHERE sha256 = ?").execute(arguments: [hash]) }
            try db.cachedStatement(
                sql: "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances WHERE instances.series_id = series.id)"
            ).execute()
            try db.cachedStatement(sql: "DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series WHERE series.study_id = studies.id)")
                .execute()
            try db.cachedStatement(
                sql: "DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies WHERE studies.patient_id = patients.id)"
            ).execute()
            return hashes.count
        }
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
        migrator.registerMigration("v2-folded-patient-names") { db in
            // Person names match case-insensitively beyond ASCII (SQLite's lower() folds ASCII only).
            try db.alter(table: "patients") { t in t.add(column: "patient_name_folded", .text) }
            for row in try Row.fetchAll(db, sql: "SELECT id, patient_name FROM patients") {
                let name: String? = row["patient_name"]
                try db.execute(
                    sql: "UPDATE patients SET patient_name_folded = ? WHERE id = ?", arguments: [name?.lowercased(), row["id"] as Int])
            }
        }
        migrator.registerMigration("v3-qido-columns") { db in
            // Attributes OHIF asks for in every study and series search, and word-folded names for fuzzy matching.
            try db.alter(table: "patients") { t in t.add(column: "patient_name_words", .text) }
            try db.alter(table: "studies") { t in
                t.add(column: "referring_physician_name", .text)
                t.add(column: "study_id", .text)
            }
            try db.alter(table: "series") { t in
                t.add(column: "series_date", .text)
                t.add(column: "series_time", .text)
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, patient_name FROM patients") {
                let name: String? = row["patient_name"]
                try db.execute(
                    sql: "UPDATE patients SET patient_name_words = ? WHERE id = ?",
                    arguments: [PersonNameFolding.words(name), row["id"] as Int])
            }
            func firstValue(_ json: String?, _ tag: String) -> String? {
                guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                    let attribute = object[tag] as? [String: Any], let first = (attribute["Value"] as? [Any])?.first
                else { return nil }
                if let name = first as? [String: Any] { return name["Alphabetic"] as? String }
                return first as? String
            }
            let studies = try Row.fetchAll(
                db,
                sql:
                    "SELECT cs.study_id AS id, MIN(ci.id) AS instance FROM instances ci JOIN series cs ON cs.id = ci.series_id GROUP BY cs.study_id"
            )
            for row in studies {
                let json = try String.fetchOne(
                    db, sql: "SELECT metadata_json FROM instances WHERE id = ?", arguments: [row["instance"] as Int])
                try db.execute(
                    sql: "UPDATE studies SET referring_physician_name = ?, study_id = ? WHERE id = ?",
                    arguments: [
                        firstValue(json, Tag.referringPhysicianName.jsonKey), firstValue(json, Tag.studyID.jsonKey), row["id"] as Int,
                    ])
            }
            for row in try Row.fetchAll(db, sql: "SELECT series_id AS id, MIN(id) AS instance FROM instances GROUP BY series_id") {
                let json = try String.fetchOne(
                    db, sql: "SELECT metadata_json FROM instances WHERE id = ?", arguments: [row["instance"] as Int])
                try db.execute(
                    sql: "UPDATE series SET series_date = ?, series_time = ? WHERE id = ?",
                    arguments: [firstValue(json, Tag.seriesDate.jsonKey), firstValue(json, Tag.seriesTime.jsonKey), row["id"] as Int])
            }
        }
        migrator.registerMigration("v4-frame-layout") { db in
            // Frames of native pixel data are read from the blob at a recorded offset, without parsing it.
            // Rows stored before keep NULL and are parsed as before.
            try db.alter(table: "instances") { t in
                t.add(column: "pixel_data_offset", .integer)
                t.add(column: "frame_length", .integer)
            }
            // A blob is removed only when no row references it any more.
            try db.create(index: "instances_sha256", on: "instances", columns: ["sha256"])
        }
        migrator.registerMigration("v5-segmentation-results") { db in
            // The series Metis's segmentation stored (its source series' UID): the results a new run replaces.
            try db.alter(table: "series") { t in t.add(column: "segmentation_source", .text) }
            // Results stored before were told apart by their description alone; they are taken as Metis's, source unknown.
            try db.execute(
                sql: """
                    UPDATE series SET segmentation_source = '' WHERE modality IN ('RTSTRUCT', 'SEG') AND series_description LIKE 'Metis lesions%'
                    """)
        }
        return migrator
    }()
}
