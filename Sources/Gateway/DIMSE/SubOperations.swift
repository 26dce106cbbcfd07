import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Sends stored instances one C-STORE each, in the receiver's accepted
/// context for each (its stored syntax, else one storage transcodes it to),
/// reading the next instance from storage while the current one is sent:
/// C-MOVE's and C-GET's sub-operations, and the arrival rules' sends.
struct SubOperations: Sendable {
    let storage: Metis_V1_Storage.Client
    let logger: Logger

    /// The counts so far (PS3.4 C.4.2.1.4).
    struct Tally: Sendable {
        var completed = 0, failed = 0, warning = 0
        var remaining: Int
        var failedInstances = [String]()
        /// The sending task was cancelled (C-CANCEL) before `remaining` were sent.
        var cancelled = false

        /// The final status: Success, Warning 0xB000 when some failed, Failure 0xA702 when none went.
        var status: UInt16 {
            failed + warning == 0
                ? DIMSEStatus.success
                : (completed + warning == 0 ? DIMSEStatus.outOfResourcesSubOperations : DIMSEStatus.subOperationsWarning)
        }
    }

    /// Sends `items` through `send`; `afterEach` sees the tally after every sub-operation.
    func perform(
        _ items: [RetrieveSCP.Item], receiver: NegotiatedAssociation, send: RetrieveSCP.Sender,
        afterEach: (Tally) async -> Void = { _ in }
    ) async -> Tally {
        var tally = Tally(remaining: items.count)
        let contexts = items.map { RetrieveSCP.context(for: $0, in: receiver) }
        func fetch(_ index: Int) -> Task<Data, any Error>? {
            guard index < items.count, let (_, syntax) = contexts[index] else { return nil }
            let item = items[index]
            return Task { try await datasetBytes(of: item, in: syntax) }
        }
        var next = fetch(0)
        for (index, item) in items.enumerated() {
            let current = next
            next = fetch(index + 1)
            if Task.isCancelled {
                next?.cancel()
                tally.cancelled = true
                return tally
            }
            var status: UInt16 = DIMSEStatus.processingFailure
            if let (contextID, _) = contexts[index], let current {
                do {
                    let dataset = try await current.value
                    status = try await send(item, contextID, dataset)
                } catch {
                    logger.warning(
                        "sub-operation failed", metadata: ["dicom.sop_instance_uid": "\(item.sopInstance)", "error": "\(error)"])
                }
            } else {
                logger.warning(
                    "no accepted context for an instance",
                    metadata: ["dicom.sop_class_uid": "\(item.sopClass)", "dicom.transfer_syntax_uid": "\(item.transferSyntax)"])
            }
            switch DIMSEStatus.kind(status) {
            case "Success": tally.completed += 1
            case "Warning": tally.warning += 1
            default:
                tally.failed += 1
                tally.failedInstances.append(item.sopInstance)
            }
            tally.remaining -= 1
            await afterEach(tally)
        }
        return tally
    }

    /// The instance's data set in `syntax`: its stored bytes without preamble and meta group.
    private func datasetBytes(of item: RetrieveSCP.Item, in syntax: String) async throws -> Data {
        var bytes = Data()
        for try await chunk in storage.retrieveInstances(
            .with {
                $0.studyInstanceUid = item.study
                $0.seriesInstanceUid = item.series
                $0.sopInstanceUid = item.sopInstance
                $0.transferSyntaxUids = [syntax]
            })
        {
            if chunk.offset == 0 { bytes.reserveCapacity(Int(chunk.totalSize)) }
            bytes.append(chunk.data)
        }
        return Part10.dataset(of: bytes)
    }
}
