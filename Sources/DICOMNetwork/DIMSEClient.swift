public import DICOM
public import DIMSE
public import Foundation

/// The SCU side of the composite services on one association: C-ECHO,
/// C-STORE, C-FIND, C-MOVE and C-GET, one operation at a time (asynchronous
/// operations window 1), each reading the peer's responses to the end.
public actor DIMSEClient {
    public let association: Association
    private var responses: AsyncThrowingStream<DIMSEMessage, any Error>.AsyncIterator
    private var nextMessageID: UInt16 = 1

    public init(_ association: Association) {
        self.association = association
        responses = association.messages.makeAsyncIterator()
    }

    /// Why an operation could not be carried out (its response never came, or made no sense).
    public struct OperationError: Error, Sendable, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// C-ECHO: the response's status.
    public func echo() async throws -> UInt16 {
        let context = try context(for: SOPClass.verification)
        let response = try await perform(
            .request(.cEchoRequest, contextID: context, messageID: takeMessageID(), sopClass: SOPClass.verification))
        return response.status ?? 0xFFFF
    }

    /// C-STORE of one instance's data set, encoded in its context's transfer syntax; the C-STORE-RSP.
    /// `moveOriginator` names the AE and message of the C-MOVE this store is a sub-operation of.
    public func store(
        contextID: UInt8, sopClassUID: String, sopInstanceUID: String, dataset: Data,
        moveOriginator: (aeTitle: String, messageID: UInt16)? = nil
    ) async throws -> DIMSEMessage {
        var elements: [DataElement] = [.us(.priority, DIMSEPriority.medium.rawValue), .text(.affectedSOPInstanceUID, .UI, sopInstanceUID)]
        if let moveOriginator {
            elements.append(.text(.moveOriginatorApplicationEntityTitle, .AE, moveOriginator.aeTitle))
            elements.append(.us(.moveOriginatorMessageID, moveOriginator.messageID))
        }
        return try await perform(
            .request(
                .cStoreRequest, contextID: contextID, messageID: takeMessageID(), sopClass: sopClassUID, elements: elements,
                dataset: dataset))
    }

    /// C-FIND: `onMatch` gets each pending response's identifier (encoded in the context's syntax); the final response.
    public func find(
        sopClassUID: String, identifier: Dataset, onMatch: (Dataset) async throws -> Void
    ) async throws -> DIMSEMessage {
        let (request, syntax) = try queryRequest(.cFindRequest, sopClassUID: sopClassUID, identifier: identifier)
        return try await perform(request) { response in
            if let data = response.dataset { try await onMatch(try DICOMReader.readElements(data, transferSyntax: syntax)) }
        }
    }

    /// C-MOVE to `destination`: `onPending` sees each pending response (its sub-operation counts); the final response.
    public func move(
        sopClassUID: String, destination: String, identifier: Dataset, onPending: (DIMSEMessage) async -> Void = { _ in }
    ) async throws -> DIMSEMessage {
        let (request, _) = try queryRequest(
            .cMoveRequest, sopClassUID: sopClassUID, identifier: identifier, elements: [.text(.moveDestination, .AE, destination)])
        return try await perform(request) { await onPending($0) }
    }

    /// C-GET: the peer's C-STORE sub-operations arrive on this association; `onStore` gets each
    /// (request, its context's transfer syntax) and answers its status. The final C-GET response.
    public func get(
        sopClassUID: String, identifier: Dataset, onStore: (DIMSEMessage, String) async -> UInt16
    ) async throws -> DIMSEMessage {
        let (request, _) = try queryRequest(.cGetRequest, sopClassUID: sopClassUID, identifier: identifier)
        try await association.send(request)
        while true {
            guard let message = try await nextMessage() else {
                throw OperationError(description: "the association ended before the C-GET response")
            }
            if message.commandField == .cStoreRequest {
                let syntax = association.negotiated.contexts[message.contextID]?.transferSyntax ?? ""
                let status = await onStore(message, syntax)
                try await association.send(message.response(status: status))
                continue
            }
            guard message.respondedMessageID == request.messageID, let status = message.status else {
                throw OperationError(description: "unexpected \(message.commandField.map { "\($0)" } ?? "message") during C-GET")
            }
            if DIMSEStatus.isFinal(status) { return message }
        }
    }

    /// Asks the peer to cancel the operation `messageID` (C-CANCEL-RQ).
    public func cancel(messageID: UInt16, contextID: UInt8) async throws {
        var command = Dataset()
        command[.commandField] = .us(.commandField, CommandField.cCancelRequest.rawValue)
        command[.messageIDBeingRespondedTo] = .us(.messageIDBeingRespondedTo, messageID)
        command[.commandDataSetType] = .us(.commandDataSetType, DIMSEMessage.noDataSet)
        try await association.send(DIMSEMessage(contextID: contextID, command: command))
    }

    /// Releases the association.
    public func release() async throws { try await association.release() }

    // MARK: Helpers

    /// The accepted context for `sopClass`, or an error naming it.
    public func context(for sopClass: String, preferring: [String] = []) throws -> UInt8 {
        guard let id = association.negotiated.context(for: sopClass, preferring: preferring) else {
            throw OperationError(description: "the peer accepted no presentation context for \(sopClass)")
        }
        return id
    }

    /// The peer's next message (the stream's iterator is a reference: a copy reads the same stream).
    private func nextMessage() async throws -> DIMSEMessage? {
        var iterator = responses
        defer { responses = iterator }
        return try await iterator.next(isolation: self)
    }

    /// A C-FIND, C-MOVE or C-GET request on `sopClassUID`'s context, its identifier in that context's syntax.
    private func queryRequest(
        _ field: CommandField, sopClassUID: String, identifier: Dataset, elements: [DataElement] = []
    ) throws -> (DIMSEMessage, TransferSyntax) {
        let contextID = try context(for: sopClassUID)
        let syntax = TransferSyntax(uid: association.negotiated.contexts[contextID]!.transferSyntax)
        let request = DIMSEMessage.request(
            field, contextID: contextID, messageID: takeMessageID(), sopClass: sopClassUID,
            elements: [.us(.priority, DIMSEPriority.medium.rawValue)] + elements,
            dataset: try DICOMWriter.elements(identifier, transferSyntax: syntax))
        return (request, syntax)
    }

    private func takeMessageID() -> UInt16 {
        defer { nextMessageID = nextMessageID == .max ? 1 : nextMessageID + 1 }
        return nextMessageID
    }

    /// Sends `request` and reads responses to it until the final one; pending ones go to `onPending`.
    private func perform(_ request: DIMSEMessage, onPending: (DIMSEMessage) async throws -> Void = { _ in }) async throws -> DIMSEMessage {
        try await association.send(request)
        while true {
            guard let message = try await nextMessage() else {
                throw OperationError(description: "the association ended before the response to message \(request.messageID ?? 0)")
            }
            guard message.respondedMessageID == request.messageID, let status = message.status else {
                throw OperationError(
                    description: "a response to another message (\(message.respondedMessageID.map(String.init) ?? "none"))")
            }
            if DIMSEStatus.isFinal(status) { return message }
            try await onPending(message)
        }
    }
}
