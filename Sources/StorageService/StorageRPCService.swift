import DICOM
import Digest
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
    var strictValidation = false
    let disk = DiskThreads.shared
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

    /// The blob is made durable while the file is parsed; the row is committed
    /// only once both succeeded. Under the blob's lock, so that a concurrent
    /// store of the same bytes, or the removal of the blob, waits.
    /// A refusal carries a `StoreRefusal` with the UIDs the file names.
    func storeInstance(request: Metis_V1_StoreInstanceRequest, context: ServerContext) async throws -> Metis_V1_StoreInstanceResponse {
        do {
            return try await store(request, context: context)
        } catch let error as StorageError where error.kind == .invalidInstance || error.kind == .conflict {
            var refusal = Self.identify(request.dicom)
            refusal.reason = error.refusal == .unspecified ? .cannotUnderstand : error.refusal
            throw RPCError(code: error.rpcError.code, message: error.message, details: refusal)
        }
    }

    /// What a refused file names, as far as its header can be read.
    static func identify(_ bytes: Data) -> Metis_V1_StoreRefusal {
        var refusal = Metis_V1_StoreRefusal()
        guard let file = try? DICOMReader.read(bytes, options: .init(stopBeforePixelData: true)) else { return refusal }
        let dataset = file.dataset
        refusal.sopClassUid = dataset.string(.sopClassUID) ?? ""
        refusal.sopInstanceUid = dataset.string(.sopInstanceUID) ?? ""
        refusal.studyInstanceUid = dataset.string(.studyInstanceUID) ?? ""
        refusal.seriesInstanceUid = dataset.string(.seriesInstanceUID) ?? ""
        refusal.patientID = dataset.string(.patientID) ?? ""
        return refusal
    }

    /// Refuses an instance that is not what the caller said it would be.
    private static func check(_ instance: IndexedInstance, against request: Metis_V1_StoreInstanceRequest) throws(StorageError) {
        if !request.expectedStudyInstanceUid.isEmpty, instance.studyInstanceUID != request.expectedStudyInstanceUid {
            throw StorageError(
                kind: .invalidInstance, refusal: .studyMismatch,
                message: "instance of study \(instance.studyInstanceUID), not of \(request.expectedStudyInstanceUid) named in the request")
        }
        if !request.expectedSopClassUid.isEmpty, instance.sopClassUID != request.expectedSopClassUid {
            throw StorageError(
                kind: .invalidInstance, refusal: .commandMismatch,
                message: "data set SOP class \(instance.sopClassUID), command \(request.expectedSopClassUid)")
        }
        if !request.expectedSopInstanceUid.isEmpty, instance.sopInstanceUID != request.expectedSopInstanceUid {
            throw StorageError(
                kind: .invalidInstance, refusal: .commandMismatch,
                message: "data set SOP instance \(instance.sopInstanceUID), command \(request.expectedSopInstanceUid)")
        }
    }

    private func store(_ request: Metis_V1_StoreInstanceRequest, context: ServerContext) async throws -> Metis_V1_StoreInstanceResponse {
        let bytes = request.dicom
        let sha256 = Digest.sha256(bytes)
        let (instance, outcome) = try await locks.withLock(sha256) { () async throws -> (IndexedInstance, StorageIndex.RecordOutcome) in
            guard bytes.count > 132, bytes.dropFirst(128).prefix(4).elementsEqual("DICM".utf8) else {
                // No blob is written for what is not even a Part 10 file; the parser says why.
                _ = try IndexedInstance(bytes: bytes, sha256: sha256, strict: strictValidation)
                throw StorageError.invalid("not a DICOM Part 10 file")
            }
            async let written = disk.run { try blobs.write(bytes, sha256: sha256) }
            let strict = strictValidation
            let parsed = Result { () throws(StorageError) in try IndexedInstance(bytes: bytes, sha256: sha256, strict: strict) }
            let created = try await written
            do {
                var parsedInstance = try parsed.get()
                try Self.check(parsedInstance, against: request)
                if request.hasSegmentationOrigin { parsedInstance.segmentationSource = request.segmentationOrigin.sourceSeriesInstanceUid }
                let instance = parsedInstance
                let overwrite = conflictPolicy == .overwrite
                return (instance, try await disk.run { try index.record(instance, overwrite: overwrite) })
            } catch {
                // A refused file leaves nothing behind.
                if created { try? await disk.run { try removeUnreferenced([sha256]) } }
                throw error
            }
        }
        if case .replaced(let previous) = outcome, previous != sha256 {
            try await locks.withLock(previous) { try await disk.run { try removeUnreferenced([previous]) } }
        }
        let answer: Metis_V1_StoreInstanceResponse.Outcome =
            switch outcome {
            case .stored: .stored
            case .alreadyStored: .alreadyStored
            case .replaced: .replaced
            }
        context.logger.info(
            "instance \(answer)",
            metadata: ["dicom.sop_instance_uid": "\(instance.sopInstanceUID)", "dicom.study_instance_uid": "\(instance.studyInstanceUID)"])
        for warning in instance.warnings {
            context.logger.warning(
                "stored with a conformance defect: \(warning)", metadata: ["dicom.sop_instance_uid": "\(instance.sopInstanceUID)"])
        }
        return .with {
            $0.outcome = answer
            $0.patientID = instance.patientID
            $0.studyInstanceUid = instance.studyInstanceUID
            $0.seriesInstanceUid = instance.seriesInstanceUID
            $0.sopInstanceUid = instance.sopInstanceUID
            $0.sopClassUid = instance.sopClassUID
            $0.transferSyntaxUid = instance.transferSyntaxUID
            $0.sha256 = instance.sha256
            $0.size = UInt64(instance.size)
            $0.warnings = instance.warnings
        }
    }

    /// Removes the blobs of `hashes` that no row references; blocking, on a
    /// disk thread, with the blobs' locks held.
    private func removeUnreferenced(_ hashes: [String]) throws {
        let kept = try index.referenced(hashes)
        for hash in hashes where !kept.contains(hash) { blobs.remove(hash) }
    }

    func retrieveInstance(
        request: Metis_V1_RetrieveInstanceRequest,
        response: ResponseStreamWriter<Metis_V1_InstanceChunk>,
        context: ServerContext
    ) async throws {
        guard let stored = try await disk.run({ try index.instance(request.sopInstanceUid) }) else {
            throw StorageError(kind: .notFound, message: "no instance \(request.sopInstanceUid)")
        }
        try await Self.writeChunks(of: try blobs.read(stored.sha256), sopInstanceUID: request.sopInstanceUid, to: response)
    }

    /// An instance's bytes as chunks of at most `chunkSize`, the first at offset 0.
    /// Streams an instance in chunks; `syntax` (when known) labels the first.
    static func writeChunks(
        of data: Data, sopInstanceUID: String, syntax: String? = nil, to response: ResponseStreamWriter<Metis_V1_InstanceChunk>
    ) async throws {
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, data.count)
            try await response.write(
                .with {
                    $0.data = data.subdata(in: offset..<end)
                    $0.totalSize = UInt64(data.count)
                    $0.sopInstanceUid = sopInstanceUID
                    $0.offset = UInt64(offset)
                    if offset == 0, let syntax { $0.transferSyntaxUid = syntax }
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

    /// Rows first (one transaction), blobs after the answer: a crash in
    /// between leaves only orphan blobs, which the start-up check removes.
    private func delete(study: String, series: String?, context: ServerContext) async throws -> Metis_V1_DeleteResponse {
        let removed = try await disk.run {
            guard try index.exists(study: study, series: series) else {
                throw StorageError(kind: .notFound, message: series.map { "no series \($0) in study \(study)" } ?? "no study \(study)")
            }
            return try index.delete(study: study, series: series)
        }
        // The rows are gone: that is the answer. Unlinking the files (~0.1 ms each
        // here) happens after it, at low priority; should the process stop
        // first, the start-up check removes the files no row references.
        let hashes = removed.map(\.sha256)
        Task { [logger = context.logger] in
            do {
                try await locks.withLocks(hashes) { try await DiskThreads.background.run { try removeUnreferenced(hashes) } }
            } catch {
                logger.warning("blobs of a deleted study stay until the next start-up check", metadata: ["error": "\(error)"])
            }
        }
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
        var match = request.match
        var unsupported = [String]()
        if request.skipUnsupportedKeys {
            for key in match.keys.sorted() where !StorageIndex.canMatch(key, at: level) {
                unsupported.append(key)
                match[key] = nil
            }
        }
        var query = StorageIndex.Query(level: level, match: match)
        if !request.studyInstanceUid.isEmpty { query.studyInstanceUID = request.studyInstanceUid }
        if !request.seriesInstanceUid.isEmpty { query.seriesInstanceUID = request.seriesInstanceUid }
        if request.limit > 0 { query.limit = Int(request.limit) }
        query.offset = Int(request.offset)
        query.includeFields = request.includeFields
        query.includeAll = request.includeAll
        query.fuzzyMatching = request.fuzzyMatching
        query.segmentationResultsOnly = request.segmentationResultsOnly
        let matches = try await index.query(query)
        return .with {
            $0.unsupportedKeys = unsupported
            $0.matches = matches.map { match in
                .with {
                    $0.studyInstanceUid = match.studyInstanceUID
                    $0.patientID = match.patientID
                    $0.seriesInstanceUid = match.seriesInstanceUID
                    $0.modality = match.modality
                    $0.sopInstanceUid = match.sopInstanceUID
                    $0.dicomJson = match.json
                    $0.path = match.path
                }
            }
        }
    }
}
