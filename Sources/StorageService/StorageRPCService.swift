import MetisProto
import MetisRPC

/// The `metis.v1.Storage` methods.
struct StorageRPCService: Metis_V1_Storage.ServiceProtocol {
    let index: StorageIndex
    let blobs: BlobStore

    func getStatistics(
        request: Metis_V1_GetStorageStatisticsRequest,
        context: ServerContext
    ) async throws -> Metis_V1_StorageStatistics {
        let counts = try await index.counts()
        var statistics = Metis_V1_StorageStatistics()
        statistics.patients = UInt64(counts.patients)
        statistics.studies = UInt64(counts.studies)
        statistics.series = UInt64(counts.series)
        statistics.instances = UInt64(counts.instances)
        statistics.storedBytes = UInt64(counts.storedBytes)
        statistics.diskBytes = UInt64(blobs.diskBytes())
        statistics.indexSchemaVersion = UInt32(counts.schemaVersion)
        return statistics
    }
}
