import DICOMNetwork
import DIMSE
import Synchronization

/// Metis's own requests on an association it accepted (C-GET's C-STORE
/// sub-operations): their responses arrive among the peer's messages, and
/// the association's reader hands them here, to the request waiting for them.
final class ResponseRouter: Sendable {
    private let waiting = Mutex<[UInt16: AsyncThrowingStream<DIMSEMessage, any Error>.Continuation]>([:])
    private let counter = Mutex<UInt16>(0)
    private let isFinished = Mutex(false)

    /// A message ID for a request of Metis's on this association.
    func nextMessageID() -> UInt16 {
        counter.withLock { id in
            id = id == .max ? 1 : id + 1
            return id
        }
    }

    /// Sends `request` and waits for the response to it.
    func perform(_ request: DIMSEMessage, on association: Association) async throws -> DIMSEMessage {
        let id = request.messageID ?? 0
        let (stream, continuation) = AsyncThrowingStream<DIMSEMessage, any Error>.makeStream()
        let open = isFinished.withLock { finished in
            if !finished { waiting.withLock { $0[id] = continuation } }
            return !finished
        }
        guard open else { throw DIMSEClient.OperationError(description: "the association has ended") }
        defer { _ = waiting.withLock { $0.removeValue(forKey: id) } }
        try await association.send(request)
        for try await response in stream { return response }
        throw DIMSEClient.OperationError(description: "the association ended before the response to message \(id)")
    }

    /// Hands a response to the request waiting for it; false when none waits.
    func deliver(_ response: DIMSEMessage) -> Bool {
        guard let id = response.respondedMessageID, let continuation = waiting.withLock({ $0.removeValue(forKey: id) }) else {
            return false
        }
        continuation.yield(response)
        continuation.finish()
        return true
    }

    /// The association ended: every waiting request fails.
    func finish() {
        isFinished.withLock { $0 = true }
        for continuation in waiting.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
