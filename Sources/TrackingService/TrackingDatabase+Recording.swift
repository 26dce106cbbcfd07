import FollowUp
import Foundation
import GRDB
import MetisProto
import SwiftProtobuf

/// Recording a study's lesions, deleting a study, and rebuilding a patient's
/// tracks — each in one transaction, so a crash leaves either the old or the
/// new state, never a mixture.
extension TrackingDatabase {
    /// Records (or re-records, replacing its lesions) one segmented study.
    func record(_ examination: RecordedExamination) async throws -> RecordedExamination.Outcome {
        let patientRecord = examination.patient
        return try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO patients (patient_id, patient_name, birth_date, sex) VALUES (?, ?, ?, ?)
                    ON CONFLICT(patient_id) DO UPDATE SET patient_name = excluded.patient_name,
                        birth_date = excluded.birth_date, sex = excluded.sex
                    """,
                arguments: [patientRecord.id, patientRecord.name, patientRecord.birthDate, patientRecord.sex])
            let patient = try Int64.fetchOne(db, sql: "SELECT id FROM patients WHERE patient_id = ?", arguments: [patientRecord.id])!
            let head: [Double?] = examination.headCentroid.map { [$0.x, $0.y, $0.z] } ?? [nil, nil, nil]
            let existing = try Row.fetchOne(
                db, sql: "SELECT id, patient_id FROM studies WHERE study_instance_uid = ?", arguments: [examination.studyInstanceUID])
            let study: Int64
            if let existing {
                study = existing["id"]
                try db.execute(sql: "DELETE FROM lesions WHERE study_id = ?", arguments: [study])
                try db.execute(
                    sql: """
                        UPDATE studies SET patient_id = ?, series_instance_uid = ?, structure_set_sop_instance_uid = ?, study_date = ?,
                            engine = ?, model_version = ?, slice_thickness_mm = ?, created_at = ?,
                            head_centroid_x_mm = ?, head_centroid_y_mm = ?, head_centroid_z_mm = ? WHERE id = ?
                        """,
                    arguments: [
                        patient, examination.seriesInstanceUID, examination.structureSetSOPInstanceUID, examination.studyDate,
                        examination.engine, examination.modelVersion, examination.sliceThickness, Date(), head[0], head[1], head[2], study,
                    ])
                let previousPatient: Int64 = existing["patient_id"]
                // Recorded again under another PatientID: the former patient keeps its other studies, or goes.
                if previousPatient != patient { try Self.studiesChanged(db, patient: previousPatient) }
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO studies (patient_id, study_instance_uid, series_instance_uid, structure_set_sop_instance_uid, study_date,
                            engine, model_version, slice_thickness_mm, created_at, head_centroid_x_mm, head_centroid_y_mm, head_centroid_z_mm)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        patient, examination.studyInstanceUID, examination.seriesInstanceUID, examination.structureSetSOPInstanceUID,
                        examination.studyDate, examination.engine, examination.modelVersion, examination.sliceThickness, Date(), head[0],
                        head[1], head[2],
                    ])
                study = db.lastInsertedRowID
            }
            for lesion in examination.lesions {
                let c = lesion.centroid
                try db.execute(
                    sql: """
                        INSERT INTO lesions (study_id, roi_number, label, volume_mm3, longest_diameter_mm, longest_axial_diameter_mm,
                            perpendicular_diameter_mm, first_slice, last_slice, centroid_x_mm, centroid_y_mm, centroid_z_mm, mean_intensity)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        study, lesion.number, lesion.label, lesion.volume, lesion.longestDiameter, lesion.longestAxialDiameter,
                        lesion.perpendicularDiameter, lesion.slices.lowerBound, lesion.slices.upperBound, c.x, c.y, c.z,
                        lesion.meanIntensity,
                    ])
            }
            let tracks = try Self.rebuildTracks(db, patient: patient)
            return RecordedExamination.Outcome(
                patientKey: patient, studyKey: study, lesions: examination.lesions.count, tracks: tracks, replaced: existing != nil)
        }
    }

    /// Removes a study and its lesions; its patient too when no study is left.
    func deleteStudy(_ uid: String) async throws -> (deleted: Bool, patientRemoved: Bool) {
        try await database.write { db in
            guard let patient = try Int64.fetchOne(db, sql: "SELECT patient_id FROM studies WHERE study_instance_uid = ?", arguments: [uid])
            else {
                return (false, false)
            }
            try db.execute(sql: "DELETE FROM studies WHERE study_instance_uid = ?", arguments: [uid])
            return (true, try Self.studiesChanged(db, patient: patient))
        }
    }

    /// After a study left `patient`: the patient goes when it has no study left
    /// (returns true), else its tracks are rebuilt.
    @discardableResult
    static func studiesChanged(_ db: Database, patient: Int64) throws -> Bool {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM studies WHERE patient_id = ?", arguments: [patient]) == 0 else {
            try rebuildTracks(db, patient: patient)
            return false
        }
        try db.execute(sql: "DELETE FROM patients WHERE id = ?", arguments: [patient])
        return true
    }

    /// Matches every pair of consecutive studies of the patient (by date,
    /// then recording order) and writes the tracks again. Returns their count.
    @discardableResult
    static func rebuildTracks(_ db: Database, patient: Int64) throws -> Int {
        try db.execute(
            sql: "UPDATE lesions SET track_id = NULL WHERE study_id IN (SELECT id FROM studies WHERE patient_id = ?)", arguments: [patient])
        try db.execute(sql: "DELETE FROM tracks WHERE patient_id = ?", arguments: [patient])
        let studies = try Row.fetchAll(
            db,
            sql: """
                SELECT s.id, s.head_centroid_x_mm AS x, s.head_centroid_y_mm AS y, s.head_centroid_z_mm AS z FROM studies s
                WHERE s.patient_id = ? ORDER BY \(chronological)
                """,
            arguments: [patient])
        guard !studies.isEmpty else { return 0 }
        struct Stored {
            var id: Int64
            var lesion: LesionMatcher.Lesion
            var track: Int = -1
        }
        func head(_ row: Row) -> SIMD3<Double>? {
            guard let x: Double = row["x"], let y: Double = row["y"], let z: Double = row["z"] else { return nil }
            return SIMD3(x, y, z)
        }
        // Track index → (first study index, last study index, lesion ids).
        var tracks = [(first: Int, last: Int, lesions: [Int64])]()
        var previous = [Stored]()
        let matcher = LesionMatcher()
        for (index, study) in studies.enumerated() {
            let studyID: Int64 = study["id"]
            var current = try Row.fetchAll(
                db,
                sql:
                    "SELECT id, centroid_x_mm, centroid_y_mm, centroid_z_mm, longest_diameter_mm FROM lesions WHERE study_id = ? ORDER BY roi_number",
                arguments: [studyID]
            ).map { row in
                Stored(
                    id: row["id"],
                    lesion: .init(
                        centroid: SIMD3(row["centroid_x_mm"], row["centroid_y_mm"], row["centroid_z_mm"]),
                        longestDiameter: row["longest_diameter_mm"]))
            }
            let matches =
                index == 0
                ? Array(repeating: nil, count: current.count)
                : matcher.match(
                    previous: previous.map(\.lesion), previousHead: head(studies[index - 1]), current: current.map(\.lesion),
                    currentHead: head(study))
            for position in current.indices {
                if let match = matches[position] {
                    let track = previous[match].track
                    current[position].track = track
                    tracks[track].last = index
                    tracks[track].lesions.append(current[position].id)
                } else {
                    current[position].track = tracks.count
                    tracks.append((index, index, [current[position].id]))
                }
            }
            previous = current
        }
        let latest = studies.count - 1
        for track in tracks {
            let status = track.last < latest ? "resolved" : track.first > 0 ? "new" : "present"
            try db.execute(
                sql: "INSERT INTO tracks (patient_id, first_seen_study_id, last_seen_study_id, status) VALUES (?, ?, ?, ?)",
                arguments: [patient, studies[track.first]["id"] as Int64, studies[track.last]["id"] as Int64, status])
            let id = db.lastInsertedRowID
            for lesion in track.lesions {
                try db.execute(sql: "UPDATE lesions SET track_id = ? WHERE id = ?", arguments: [id, lesion])
            }
        }
        return tracks.count
    }
}
