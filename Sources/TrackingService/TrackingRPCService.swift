import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// The `metis.v1.Tracking` methods.
struct TrackingRPCService: Metis_V1_Tracking.ServiceProtocol {
    let database: TrackingDatabase

    func getStatistics(
        request: Metis_V1_GetTrackingStatisticsRequest,
        context: ServerContext
    ) async throws -> Metis_V1_TrackingStatistics {
        let counts = try await database.counts()
        var statistics = Metis_V1_TrackingStatistics()
        statistics.patients = UInt64(counts.patients)
        statistics.studies = UInt64(counts.studies)
        statistics.lesions = UInt64(counts.lesions)
        statistics.tracks = UInt64(counts.tracks)
        statistics.databaseSchemaVersion = UInt32(counts.schemaVersion)
        return statistics
    }

    func recordStudy(request: Metis_V1_RecordStudyRequest, context: ServerContext) async throws -> Metis_V1_RecordStudyResponse {
        let response = Metis_V1_RecordStudyResponse(try await database.record(try RecordedExamination(request)))
        context.logger.info(
            "study recorded",
            metadata: [
                "dicom.study_instance_uid": "\(request.studyInstanceUid)", "lesions": "\(response.lesions)", "tracks": "\(response.tracks)",
                "replaced": "\(response.replaced)",
            ])
        return response
    }

    func listPatients(request: Metis_V1_ListPatientsRequest, context: ServerContext) async throws -> Metis_V1_PatientList {
        try await database.patients(limit: Int(request.limit), offset: Int(request.offset), knownRevision: request.knownRevision)
    }

    func listStudies(request: Metis_V1_ListStudiesRequest, context: ServerContext) async throws -> Metis_V1_StudyList {
        try await database.studies(patientID: request.patientID)
    }

    func listLesions(request: Metis_V1_ListLesionsRequest, context: ServerContext) async throws -> Metis_V1_LesionList {
        try await database.lesions(studyInstanceUID: request.studyInstanceUid)
    }

    func getTimeline(request: Metis_V1_TimelineRequest, context: ServerContext) async throws -> Metis_V1_Timeline {
        try await database.timeline(patientID: request.patientID)
    }

    func export(request: Metis_V1_ExportRequest, context: ServerContext) async throws -> Metis_V1_FollowUpExport {
        try await database.export(patientID: request.patientID)
    }

    func deleteStudy(request: Metis_V1_DeleteTrackedStudyRequest, context: ServerContext) async throws
        -> Metis_V1_DeleteTrackedStudyResponse
    {
        let (deleted, patientRemoved) = try await database.deleteStudy(request.studyInstanceUid)
        let response = Metis_V1_DeleteTrackedStudyResponse.with {
            $0.deleted = deleted
            $0.patientRemoved = patientRemoved
        }
        context.logger.info(
            "study deleted", metadata: ["dicom.study_instance_uid": "\(request.studyInstanceUid)", "deleted": "\(response.deleted)"])
        return response
    }
}
