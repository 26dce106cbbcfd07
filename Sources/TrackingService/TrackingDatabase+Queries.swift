import FollowUp
import Foundation
import GRDB
import MetisProto
import SwiftProtobuf
import Synchronization

/// The follow-up as it is read: patients, studies, lesions, and a patient's
/// timeline with its tracks and RANO-BM assessments.
extension TrackingDatabase {
    /// Patients by PatientID. The whole list is kept between calls and read
    /// again only when the database's revision has moved; a caller that
    /// names the current revision gets `unchanged` instead of the list.
    func patients(limit: Int, offset: Int, knownRevision: String = "") async throws -> Metis_V1_PatientList {
        let (revision, all) = try await database.read { db in
            let revision = try Int64.fetchOne(db, sql: "SELECT value FROM revision") ?? 0
            if let cached = patientListCache.withLock({ $0 }), cached.revision == revision { return (revision, cached.patients) }
            let patients = try Row.fetchAll(db, sql: Self.patientSelect + " GROUP BY p.id ORDER BY p.patient_id").map(Self.patient)
            patientListCache.withLock { cache in
                if (cache?.revision ?? -1) < revision { cache = (revision, patients) }
            }
            return (revision, patients)
        }
        let token = "\(instance)-\(revision)"
        guard token != knownRevision else {
            return .with {
                $0.revision = token
                $0.total = UInt64(all.count)
                $0.unchanged = true
            }
        }
        let start = min(offset, all.count)
        let end = limit > 0 ? min(all.count, start + limit) : all.count
        return .with {
            $0.revision = token
            $0.total = UInt64(all.count)
            $0.patients = Array(all[start..<end])
        }
    }

    func studies(patientID: String) async throws -> Metis_V1_StudyList {
        let studies = try await database.read { db in try Self.studies(db, patientID: patientID) }
        return .with { $0.studies = studies }
    }

    /// Every study (of one patient, or of all when `patientID` is empty) with
    /// its lesions, in one read: what the exports are made of.
    func export(patientID: String) async throws -> Metis_V1_FollowUpExport {
        try await database.read { db in
            let studies = try Self.studies(db, patientID: patientID)
            var lesions = [Int64: [Metis_V1_TrackedLesion]]()
            let filter =
                patientID.isEmpty
                ? "" : " WHERE study_id IN (SELECT s.id FROM studies s JOIN patients p ON p.id = s.patient_id WHERE p.patient_id = ?)"
            for row in try Row.fetchAll(
                db, sql: "SELECT * FROM lesions" + filter + " ORDER BY study_id, roi_number",
                arguments: patientID.isEmpty ? [] : [patientID])
            {
                lesions[row["study_id"], default: []].append(Self.lesion(row))
            }
            return .with {
                $0.studies = studies.map { study in
                    .with {
                        $0.study = study
                        $0.lesions = lesions[study.key] ?? []
                    }
                }
            }
        }
    }

    /// Studies by patient, then in date order; `notFound` for an unknown patient.
    private static func studies(_ db: Database, patientID: String) throws -> [Metis_V1_TrackedStudy] {
        let filter = patientID.isEmpty ? "" : " WHERE p.patient_id = ?"
        let rows = try Row.fetchAll(
            db, sql: studySelect + filter + " GROUP BY s.id ORDER BY p.patient_id, " + chronological,
            arguments: patientID.isEmpty ? [] : [patientID])
        if !patientID.isEmpty, rows.isEmpty,
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patients WHERE patient_id = ?", arguments: [patientID]) == 0
        {
            throw TrackingError(.notFound, "no followed-up patient \(patientID)")
        }
        return rows.map(study)
    }

    func lesions(studyInstanceUID uid: String) async throws -> Metis_V1_LesionList {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: Self.studySelect + " WHERE s.study_instance_uid = ? GROUP BY s.id", arguments: [uid])
            else {
                throw TrackingError(.notFound, "study \(uid) has no recorded segmentation")
            }
            let study = Self.study(row)
            let lesions = try Row.fetchAll(db, sql: "SELECT * FROM lesions WHERE study_id = ? ORDER BY roi_number", arguments: [study.key])
            return .with {
                $0.study = study
                $0.lesions = lesions.map(Self.lesion)
            }
        }
    }

    func timeline(patientID: String) async throws -> Metis_V1_Timeline {
        try await database.read { db in
            guard
                let patientRow = try Row.fetchOne(
                    db, sql: Self.patientSelect + " WHERE p.patient_id = ? GROUP BY p.id", arguments: [patientID])
            else {
                throw TrackingError(.notFound, "no followed-up patient \(patientID)")
            }
            let patient = Self.patient(patientRow)
            let studies = try Row.fetchAll(
                db, sql: Self.studySelect + " WHERE s.patient_id = ? GROUP BY s.id ORDER BY " + Self.chronological,
                arguments: [patient.key]
            ).map(Self.study)
            // In the studies' order, so that each track's points come out in date order.
            let lesions = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.* FROM lesions l JOIN studies s ON s.id = l.study_id WHERE s.patient_id = ?
                    ORDER BY \(Self.chronological), l.roi_number
                    """,
                arguments: [patient.key])
            let trackRows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.id, t.status, f.study_instance_uid AS first_uid, l.study_instance_uid AS last_uid FROM tracks t
                    LEFT JOIN studies f ON f.id = t.first_seen_study_id LEFT JOIN studies l ON l.id = t.last_seen_study_id
                    WHERE t.patient_id = ? ORDER BY t.id
                    """,
                arguments: [patient.key])
            let studyIndex = Dictionary(uniqueKeysWithValues: studies.enumerated().map { ($0.element.key, $0.offset) })
            // Measurements per study, for RANO-BM.
            var perStudy = Array(repeating: [ResponseAssessment.Measurement](), count: studies.count)
            var points = [Int64: [Metis_V1_TrackPoint]]()
            for row in lesions {
                let lesion = Self.lesion(row)
                let studyKey: Int64 = row["study_id"]
                guard let index = studyIndex[studyKey] else { continue }
                perStudy[index].append(
                    .init(
                        track: Int(lesion.trackID), longestDiameter: lesion.longestAxialDiameterMm, volume: lesion.volumeMm3,
                        slices: Int(lesion.lastSlice - lesion.firstSlice + 1)))
                points[lesion.trackID, default: []].append(
                    .with {
                        $0.studyInstanceUid = studies[index].studyInstanceUid
                        $0.studyDate = studies[index].studyDate
                        $0.lesionID = lesion.id
                        $0.roiNumber = lesion.roiNumber
                        $0.volumeMm3 = lesion.volumeMm3
                        $0.longestDiameterMm = lesion.longestDiameterMm
                        $0.longestAxialDiameterMm = lesion.longestAxialDiameterMm
                    })
            }
            let targets = Set(perStudy.first.map { ResponseAssessment.targets(baseline: $0) } ?? [])
            let assessments = ResponseAssessment.assess(perStudy)
            return .with {
                $0.patient = patient
                $0.studies = studies
                $0.tracks = trackRows.map { row in
                    let id: Int64 = row["id"]
                    return .with {
                        $0.id = id
                        $0.status = row["status"]
                        $0.firstSeenStudyInstanceUid = row["first_uid"] ?? ""
                        $0.lastSeenStudyInstanceUid = row["last_uid"] ?? ""
                        $0.target = targets.contains(Int(id))
                        $0.points = points[id] ?? []
                    }
                }
                $0.assessments = zip(studies, assessments).map { study, point in
                    .with {
                        $0.studyInstanceUid = study.studyInstanceUid
                        $0.studyDate = study.studyDate
                        $0.category = point.category.rawValue
                        $0.volumetricCategory = point.volumetricCategory.rawValue
                        $0.sumOfDiametersMm = point.sumOfDiameters
                        $0.nadirMm = point.nadir
                        $0.targetVolumeMm3 = point.targetVolume
                        if let change = point.changeFromBaseline { $0.changeFromBaseline = change }
                        if let change = point.changeFromNadir { $0.changeFromNadir = change }
                        $0.newMeasurableTrackIds = point.newMeasurableTracks.map(Int64.init)
                    }
                }
            }
        }
    }

    /// A patient's studies in time: by StudyDate, then in recording order. Tracks are built in this order too.
    static let chronological = "s.study_date, s.created_at, s.id"

    static let patientSelect = """
        SELECT p.id, p.patient_id, p.patient_name, p.birth_date, p.sex, COUNT(s.id) AS studies,
            MIN(s.study_date) AS first_date, MAX(s.study_date) AS last_date
        FROM patients p LEFT JOIN studies s ON s.patient_id = p.id
        """

    static let studySelect = """
        SELECT s.*, p.patient_id AS patient_dicom_id, COUNT(l.id) AS lesion_count, COALESCE(SUM(l.volume_mm3), 0) AS total_volume
        FROM studies s JOIN patients p ON p.id = s.patient_id LEFT JOIN lesions l ON l.study_id = s.id
        """

    /// By column position in `patientSelect` (GRDB's lookup by name folds case on every access: a third of a long list's time).
    static func patient(_ row: Row) -> Metis_V1_TrackedPatient {
        .with {
            $0.key = row[0]
            $0.patientID = row[1]
            $0.patientName = row[2] ?? ""
            $0.birthDate = row[3] ?? ""
            $0.sex = row[4] ?? ""
            $0.studies = UInt32(row[5] as Int)
            $0.firstStudyDate = row[6] ?? ""
            $0.lastStudyDate = row[7] ?? ""
        }
    }

    static func study(_ row: Row) -> Metis_V1_TrackedStudy {
        .with {
            $0.key = row["id"]
            $0.patientKey = row["patient_id"]
            $0.patientID = row["patient_dicom_id"]
            $0.studyInstanceUid = row["study_instance_uid"]
            $0.seriesInstanceUid = row["series_instance_uid"]
            $0.structureSetSopInstanceUid = row["structure_set_sop_instance_uid"] ?? ""
            $0.studyDate = row["study_date"] ?? ""
            $0.engine = row["engine"]
            $0.modelVersion = row["model_version"] ?? ""
            $0.sliceThicknessMm = row["slice_thickness_mm"] ?? 0
            $0.lesions = UInt32(row["lesion_count"] as Int)
            $0.totalVolumeMm3 = row["total_volume"]
            let created: Date = row["created_at"]
            $0.recordedAt = created.formatted(.iso8601)
        }
    }

    static func lesion(_ row: Row) -> Metis_V1_TrackedLesion {
        .with {
            $0.id = row["id"]
            $0.trackID = row["track_id"] ?? 0
            $0.roiNumber = UInt32(row["roi_number"] as Int)
            $0.label = row["label"]
            $0.volumeMm3 = row["volume_mm3"]
            $0.longestDiameterMm = row["longest_diameter_mm"]
            $0.longestAxialDiameterMm = row["longest_axial_diameter_mm"]
            $0.perpendicularDiameterMm = row["perpendicular_diameter_mm"]
            $0.firstSlice = UInt32(row["first_slice"] as Int)
            $0.lastSlice = UInt32(row["last_slice"] as Int)
            $0.centroidMm = [row["centroid_x_mm"], row["centroid_y_mm"], row["centroid_z_mm"]]
            $0.meanIntensity = row["mean_intensity"] ?? 0
        }
    }
}
