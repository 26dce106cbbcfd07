import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// The `metis.v1.Storage` methods.
struct StorageRPCService: Metis_V1_Storage.ServiceProtocol {
    let index: StorageIndex
    let blobs: BlobStore
    let conflictPolicy: StorageConfiguration.ConflictPolicy
    let locks = KeyedLock()
    static let chunkSize = 1 << 20

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

    func storeInstance(request: Metis_V1_StoreInstanceRequest, context: ServerContext) async throws -> Metis_V1_StoreInstanceResponse {
        let instance = try IndexedInstance(bytes: request.dicom)
        let outcome = try await locks.withLock(instance.sopInstanceUID) { () async throws -> Metis_V1_StoreInstanceResponse.Outcome in
            if let existing = try await index.instance(instance.sopInstanceUID) {
                if existing.sha256 == instance.sha256 && blobs.exists(existing.sha256) { return .alreadyStored }
                guard conflictPolicy == .overwrite else {
                    throw StorageError(
                        kind: .conflict,
                        message: "SOP Instance UID \(instance.sopInstanceUID) is already stored with other content (sha256 \(existing.sha256))")
                }
                // The new blob is durable before the row points at it; the old one goes after the commit.
                try blobs.write(request.dicom, sha256: instance.sha256)
                try await index.record(instance)
                if existing.sha256 != instance.sha256 { blobs.remove(existing.sha256) }
                return .replaced
            }
            try blobs.write(request.dicom, sha256: instance.sha256)
            try await index.record(instance)
            return .stored
        }
        context.logger.info(
            "instance \(outcome)",
            metadata: ["dicom.sop_instance_uid": "\(instance.sopInstanceUID)", "dicom.study_instance_uid": "\(instance.studyInstanceUID)"])
        return .with {
            $0.outcome = outcome
            $0.patientID = instance.patientID
            $0.studyInstanceUid = instance.studyInstanceUID
            $0.seriesInstanceUid = instance.seriesInstanceUID
            $0.sopInstanceUid = instance.sopInstanceUID
            $0.sopClassUid = instance.sopClassUID
            $0.transferSyntaxUid = instance.transferSyntaxUID
            $0.sha256 = instance.sha256
            $0.size = UInt64(instance.size)
        }
    }

    func retrieveInstance(
        request: Metis_V1_RetrieveInstanceRequest,
        response: ResponseStreamWriter<Metis_V1_InstanceChunk>,
        context: ServerContext
    ) async throws {
        guard let stored = try await index.instance(request.sopInstanceUid) else {
            throw StorageError(kind: .notFound, message: "no instance \(request.sopInstanceUid)")
        }
        try await Self.writeChunks(of: try blobs.read(stored.sha256), sopInstanceUID: request.sopInstanceUid, to: response)
    }

    /// An instance's bytes as chunks of at most `chunkSize`, the first at offset 0.
    static func writeChunks(of data: Data, sopInstanceUID: String, to response: ResponseStreamWriter<Metis_V1_InstanceChunk>) async throws {
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, data.count)
            try await response.write(.with {
                $0.data = data.subdata(in: offset..<end)
                $0.totalSize = UInt64(data.count)
                $0.sopInstanceUid = sopInstanceUID
                $0.offset = UInt64(offset)
            })
            offset = end
        } while offset < data.count
    }

    func deleteStudy(request: Metis_V1_DeleteStudyRequest, context: ServerContext) async throws -> Metis_V1_DeleteResponse {
        try await delete(study: request.studyInstanceUid, series: nil, context: context)
    }

    func deleteSeries(request: Metis_V1_DeleteSeriesRequest, context: ServerContext) async throws -> Metis_V1_DeleteResponse {
        try await delete(study: request.studyInstanceUid, series: request.seriesInstanceUid, context: context)
    }

    /// Rows first (one transaction), blobs after: a crash in between leaves
    /// only orphan blobs, which the start-up check removes.
    private func delete(study: String, series: String?, context: ServerContext) async throws -> Metis_V1_DeleteResponse {
        guard try await index.exists(study: study, series: series) else {
            throw StorageError(kind: .notFound, message: series.map { "no series \($0) in study \(study)" } ?? "no study \(study)")
        }
        let removed = try await index.delete(study: study, series: series)
        for blob in removed { blobs.remove(blob.sha256) }
        context.logger.info("deleted \(removed.count) instances", metadata: ["dicom.study_instance_uid": "\(study)"])
        return .with {
            $0.instancesDeleted = UInt32(removed.count)
            $0.bytesFreed = UInt64(removed.reduce(0) { $0 + $1.size })
        }
    }
}

extension StorageRPCService {
    func query(request: Metis_V1_QueryRequest, context: ServerContext) async throws -> Metis_V1_QueryResponse {
        let level: StorageIndex.QueryLevel
        switch request.level {
        case .study: level = .study
        case .series: level = .series
        case .instance: level = .instance
        default: throw StorageError.invalid("query level missing")
        }
        var query = StorageIndex.Query(level: level, match: request.match)
        if !request.studyInstanceUid.isEmpty { query.studyInstanceUID = request.studyInstanceUid }
        if !request.seriesInstanceUid.isEmpty { query.seriesInstanceUID = request.seriesInstanceUid }
        if request.limit > 0 { query.limit = Int(request.limit) }
        query.offset = Int(request.offset)
        query.includeFields = request.includeFields
        query.includeAll = request.includeAll
        query.fuzzyMatching = request.fuzzyMatching
        let matches = try await index.query(query)
        return .with {
            $0.matches = matches.map(\.json)
            $0.paths = matches.map(\.path)
        }
    }
}
