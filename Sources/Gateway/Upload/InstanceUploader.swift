import DICOM
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Sends uploaded files to metis-storage, a few at a time, and reports each
/// file's outcome in upload order.
struct InstanceUploader: Sendable {
    let storage: Metis_V1_Storage.Client
    /// Uploads in flight at once (storage parses and hashes in parallel).
    var concurrency = 4
    /// An instance must fit in one RPC frame.
    var maximumInstanceSize = 60 << 20

    struct Result: Sendable {
        enum Status: String, Sendable, Encodable {
            case stored, alreadyStored, replaced, failed
        }

        var file: String
        var status: Status
        var sopClassUID: String?
        var sopInstanceUID: String?
        var studyInstanceUID: String?
        var seriesInstanceUID: String?
        var patientID: String?
        /// Why a failed file was refused.
        var reason: String?
        /// The DICOM failure reason (PS3.18 / PS3.4 status) of a failed file.
        var failureReason: UInt16?
        /// The failure came from an input the client can fix (not a service outage).
        var isClientError = true
        /// Conformance defects of a stored file, stored as sent (lenient validation).
        var warnings: [String] = []

        var succeeded: Bool { status != .failed }
    }

    /// DICOM status codes used as failure reasons.
    enum FailureReason {
        static let processingFailure: UInt16 = 0x0110
        static let duplicateSOPInstance: UInt16 = 0x0111
        static let outOfResources: UInt16 = 0xA700
        static let cannotUnderstand: UInt16 = 0xC000
    }

    /// Stores `files`; when `expectedStudy` is set, instances of another study are refused.
    func store(_ files: [UploadedFile], expectedStudy: String? = nil) async -> [Result] {
        if files.count == 1 { return [await store(files[0], expectedStudy: expectedStudy)] }
        var results = [Result?](repeating: nil, count: files.count)
        await withTaskGroup(of: (Int, Result).self) { group in
            var next = 0
            func startNext() {
                guard next < files.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await store(files[index], expectedStudy: expectedStudy)) }
            }
            for _ in 0..<concurrency { startNext() }
            for await (index, result) in group {
                results[index] = result
                startNext()
            }
        }
        return results.map { $0! }
    }

    private func store(_ file: UploadedFile, expectedStudy: String?) async -> Result {
        guard file.data.count <= maximumInstanceSize else {
            return failed(
                file, reason: "\(file.data.count) bytes: an instance may hold at most \(maximumInstanceSize) bytes",
                code: FailureReason.outOfResources)
        }
        if let expectedStudy {
            let header = Self.identify(file.data)
            if let study = header.study, study != expectedStudy {
                return failed(
                    file, reason: "instance of study \(study), not of \(expectedStudy) named in the URL",
                    code: FailureReason.processingFailure,
                    header: header)
            }
        }
        do {
            let response = try await storage.storeInstance(.with { $0.dicom = file.data })
            let status: Result.Status =
                switch response.outcome {
                case .alreadyStored: .alreadyStored
                case .replaced: .replaced
                default: .stored
                }
            return Result(
                file: file.name, status: status, sopClassUID: response.sopClassUid, sopInstanceUID: response.sopInstanceUid,
                studyInstanceUID: response.studyInstanceUid, seriesInstanceUID: response.seriesInstanceUid, patientID: response.patientID,
                warnings: response.warnings)
        } catch let error as RPCError {
            switch error.code {
            case .invalidArgument: return failed(file, reason: error.message, code: FailureReason.cannotUnderstand)
            case .alreadyExists:
                // Another version of the SOP instance, or a series or study the file would tie to other parents.
                let duplicate = error.message.hasPrefix("SOP Instance UID")
                return failed(
                    file, reason: error.message, code: duplicate ? FailureReason.duplicateSOPInstance : FailureReason.processingFailure)
            default:
                var result = failed(file, reason: "metis-storage: \(error.message)", code: FailureReason.outOfResources)
                result.isClientError = false
                return result
            }
        } catch {
            var result = failed(file, reason: "\(error)", code: FailureReason.processingFailure)
            result.isClientError = false
            return result
        }
    }

    /// A refusal naming what the file's header says (read now unless the caller already has it).
    private func failed(
        _ file: UploadedFile, reason: String, code: UInt16, header known: (sopClass: String?, sopInstance: String?, study: String?)? = nil
    ) -> Result {
        let header = known ?? Self.identify(file.data)
        return Result(
            file: file.name, status: .failed, sopClassUID: header.sopClass, sopInstanceUID: header.sopInstance,
            studyInstanceUID: header.study, reason: reason, failureReason: code)
    }

    /// The UIDs a file names, as far as its header can be read (for failure reports).
    static func identify(_ data: Data) -> (sopClass: String?, sopInstance: String?, study: String?) {
        guard let file = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true)) else { return (nil, nil, nil) }
        return (file.dataset.string(.sopClassUID), file.dataset.string(.sopInstanceUID), file.dataset.string(.studyInstanceUID))
    }
}
