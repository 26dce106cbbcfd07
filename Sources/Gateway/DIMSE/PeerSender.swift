import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProcess
import MetisProto

/// Sends a stored series to a configured peer on an association of its own
/// (the arrival rules' `send` and `forward`), as C-MOVE sends to its
/// destination: each instance in a syntax the peer accepted.
struct PeerSender: Sendable {
    let storage: Metis_V1_Storage.Client
    let aeTitle: String
    let peers: DICOMPeerTable
    let settings: AssociationSettings
    let audit: AuditLog?
    let logger: Logger

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends every instance of the series; throws unless the peer took them all.
    func send(study: String, series: String, to destination: String) async throws -> SubOperations.Tally {
        guard let peer = peers.peer(destination), peer.services.contains(.store) else {
            throw Failure(description: "\(destination) is not a configured peer that receives instances (dicom_peers)")
        }
        let items = try await RetrieveSCP.items(
            matching: ["StudyInstanceUID": study, "SeriesInstanceUID": series], in: storage)
        guard !items.isEmpty else { throw Failure(description: "series \(series) of study \(study) is not stored") }
        let tally = try await store(items, to: peer)
        guard tally.failed == 0 else {
            throw Failure(
                description:
                    "\(peer.aeTitle) refused \(tally.failed) of \(items.count) instances (first: \(tally.failedInstances.first ?? ""))")
        }
        return tally
    }

    /// C-STOREs `items` to `peer` on an association of their own, proposing
    /// what they need, then releases it. `originator` marks them as the
    /// sub-operations of that C-MOVE, and each is audited on `requester`'s
    /// association when given (C-MOVE), else on the new one; `afterEach`
    /// sees the tally after every instance. Throws only when no association
    /// could be opened; refused instances are in the tally.
    func store(
        _ items: [RetrieveSCP.Item], to peer: DICOMPeer, originator: (aeTitle: String, messageID: UInt16)? = nil,
        requester: Association? = nil, afterEach: (SubOperations.Tally) async -> Void = { _ in }
    ) async throws(Failure) -> SubOperations.Tally {
        let association: Association
        do {
            association = try await peers.associate(
                peer, request: RetrieveSCP.storageRequest(for: items, calling: aeTitle, called: peer.aeTitle, settings: settings),
                settings: settings, logger: logger)
        } catch {
            throw Failure(description: "\(peer.aeTitle) at \(peer.host):\(peer.port): \(error)")
        }
        let client = DIMSEClient(association)
        let audited = requester ?? association
        let tally = await SubOperations(storage: storage, logger: logger).perform(
            items, receiver: association.negotiated,
            send: { item, contextID, dataset in
                let answer = try await client.store(
                    contextID: contextID, sopClassUID: item.sopClass, sopInstanceUID: item.sopInstance, dataset: dataset,
                    moveOriginator: originator)
                let status = answer.status ?? 0xFFFF
                audit?.record(
                    .dimse(
                        .send, operation: "C-STORE to \(peer.aeTitle)", association: audited, status: status, study: item.study,
                        instance: item.sopInstance))
                return status
            }, afterEach: afterEach)
        do { try await client.release() } catch { await association.abort() }
        return tally
    }
}
