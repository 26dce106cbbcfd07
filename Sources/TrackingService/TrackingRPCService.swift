import MetisProto
import MetisRPC

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
}
