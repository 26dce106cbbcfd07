import GRDB

extension StorageIndex {
    /// Where a stored instance sits and which blob holds it.
    struct InstanceLocation: Sendable {
        var studyInstanceUID: String
        var seriesInstanceUID: String
        var sopInstanceUID: String
        var sha256: String
        var size: Int
    }

    /// The instances of a study, narrowed to a series and to one instance when
    /// given, in series and instance number order; empty when nothing matches.
    func locations(study: String, series: String? = nil, instance: String? = nil) async throws -> [InstanceLocation] {
        let (filter, arguments) = Self.scope(study: study, series: series, instance: instance)
        return try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sha256, i.size
                        FROM instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
                        WHERE \(filter) ORDER BY se.series_number, se.id, i.instance_number, i.id
                        """), arguments: arguments
            ).map { InstanceLocation(studyInstanceUID: $0[0], seriesInstanceUID: $0[1], sopInstanceUID: $0[2], sha256: $0[3], size: $0[4]) }
        }
    }

    /// Where an instance's frames lie in its blob, when the index recorded it.
    struct FrameLayout: Sendable {
        var sha256: String
        var transferSyntaxUID: String
        var numberOfFrames: Int
        /// nil for instances whose frames must be parsed out of the blob.
        var pixelDataOffset: Int?
        var frameLength: Int?
    }

    /// The frame layout of one instance; nil when it is not stored. Blocking: for the disk threads.
    func frameLayout(study: String, series: String, instance: String) throws -> FrameLayout? {
        let (filter, arguments) = Self.scope(study: study, series: series, instance: instance)
        return try database.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT i.sha256, i.transfer_syntax_uid, i.number_of_frames, i.pixel_data_offset, i.frame_length
                        FROM instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
                        WHERE \(filter)
                        """), arguments: arguments
            ).map {
                FrameLayout(
                    sha256: $0[0], transferSyntaxUID: $0[1], numberOfFrames: max(1, $0[2] as Int? ?? 1), pixelDataOffset: $0[3],
                    frameLength: $0[4])
            }
        }
    }

    /// The stored DICOM JSON of the instances in scope, in the same order as `locations`.
    func metadata(study: String, series: String? = nil, instance: String? = nil) async throws -> [(
        location: InstanceLocation, json: String
    )] {
        let (filter, arguments) = Self.scope(study: study, series: series, instance: instance)
        return try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sha256, i.size, i.metadata_json
                        FROM instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
                        WHERE \(filter) ORDER BY se.series_number, se.id, i.instance_number, i.id
                        """), arguments: arguments
            ).map {
                (
                    InstanceLocation(studyInstanceUID: $0[0], seriesInstanceUID: $0[1], sopInstanceUID: $0[2], sha256: $0[3], size: $0[4]),
                    $0[5]
                )
            }
        }
    }

    /// The images (instances with Rows) of a series, or of the study's first
    /// series that has images, in instance order: (series UID, SOP Instance UID).
    func imageInstances(study: String, series: String?) async throws -> [(series: String, instance: String)] {
        try await database.read { db in
            let seriesID: Int? = try Int.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT se.id FROM series se JOIN studies st ON st.id = se.study_id
                        WHERE st.study_instance_uid = ? AND (? IS NULL OR se.series_instance_uid = ?)
                          AND EXISTS (SELECT 1 FROM instances i WHERE i.series_id = se.id AND i.rows > 0)
                        ORDER BY se.series_number, se.id LIMIT 1
                        """), arguments: [study, series, series])
            guard let seriesID else { return [] }
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT se.series_instance_uid, i.sop_instance_uid FROM instances i JOIN series se ON se.id = i.series_id
                        WHERE i.series_id = ? AND i.rows > 0 ORDER BY i.instance_number, i.id
                        """), arguments: [seriesID]
            ).map { (series: $0[0], instance: $0[1]) }
        }
    }

    private static func scope(study: String, series: String?, instance: String?) -> (String, StatementArguments) {
        var filter = "st.study_instance_uid = ?"
        var arguments: StatementArguments = [study]
        if let series {
            filter += " AND se.series_instance_uid = ?"
            arguments += [series]
        }
        if let instance {
            filter += " AND i.sop_instance_uid = ?"
            arguments += [instance]
        }
        return (filter, arguments)
    }
}
