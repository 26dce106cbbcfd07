public import DICOM
public import Foundation

/// Command Field values of the composite services (PS3.7 Annex E).
public enum CommandField: UInt16, Sendable {
    case cStoreRequest = 0x0001
    case cStoreResponse = 0x8001
    case cGetRequest = 0x0010
    case cGetResponse = 0x8010
    case cFindRequest = 0x0020
    case cFindResponse = 0x8020
    case cMoveRequest = 0x0021
    case cMoveResponse = 0x8021
    case cEchoRequest = 0x0030
    case cEchoResponse = 0x8030
    case cCancelRequest = 0x0FFF

    /// The response to this request.
    public var response: CommandField? {
        switch self {
        case .cStoreRequest: .cStoreResponse
        case .cGetRequest: .cGetResponse
        case .cFindRequest: .cFindResponse
        case .cMoveRequest: .cMoveResponse
        case .cEchoRequest: .cEchoResponse
        default: nil
        }
    }
}

/// DIMSE status codes Metis sends or reads (PS3.7 Annex C, PS3.4 B.2.3, C.4).
public enum DIMSEStatus {
    public static let success: UInt16 = 0x0000
    public static let pending: UInt16 = 0xFF00
    /// C-FIND pending: an optional key was not supported.
    public static let pendingWithWarning: UInt16 = 0xFF01
    public static let cancel: UInt16 = 0xFE00
    /// Sub-operations complete, one or more failed or had warnings (C-MOVE, C-GET).
    public static let subOperationsWarning: UInt16 = 0xB000
    public static let datasetDoesNotMatchSOPClassWarning: UInt16 = 0xB007
    public static let outOfResources: UInt16 = 0xA700
    /// C-MOVE: Out of resources – unable to perform sub-operations.
    public static let outOfResourcesSubOperations: UInt16 = 0xA702
    /// C-MOVE: Move Destination unknown.
    public static let moveDestinationUnknown: UInt16 = 0xA801
    public static let datasetDoesNotMatchSOPClass: UInt16 = 0xA900
    public static let identifierDoesNotMatchSOPClass: UInt16 = 0xA900
    public static let cannotUnderstand: UInt16 = 0xC000
    /// Unable to process (C-FIND, C-MOVE, C-GET).
    public static let unableToProcess: UInt16 = 0xC000
    public static let duplicateSOPInstance: UInt16 = 0x0111
    public static let sopClassNotSupported: UInt16 = 0x0122
    public static let processingFailure: UInt16 = 0x0110

    /// Whether `status` ends the operation (neither Pending nor Pending with warning).
    public static func isFinal(_ status: UInt16) -> Bool { status != pending && status != pendingWithWarning }

    /// Success, Warning, Failure or Cancel, as PS3.7 C.1 classes a code.
    public static func kind(_ status: UInt16) -> String {
        switch status {
        case success: "Success"
        case pending, pendingWithWarning: "Pending"
        case cancel: "Cancel"
        case 0x0001, 0x0107, 0x0116, 0xB000...0xBFFF: "Warning"
        default: "Failure"
        }
    }
}

/// Query/Retrieve priorities (PS3.7 9.1.1.1.4).
public enum DIMSEPriority: UInt16, Sendable {
    case medium = 0x0000
    case high = 0x0001
    case low = 0x0002
}

extension DIMSEMessage {
    public var commandField: CommandField? { command.int(.commandField).flatMap { CommandField(rawValue: UInt16(truncatingIfNeeded: $0)) } }
    public var messageID: UInt16? { command.int(.messageID).map { UInt16(truncatingIfNeeded: $0) } }
    public var respondedMessageID: UInt16? { command.int(.messageIDBeingRespondedTo).map { UInt16(truncatingIfNeeded: $0) } }
    public var status: UInt16? { command.int(.status).map { UInt16(truncatingIfNeeded: $0) } }
    public var affectedSOPClassUID: String? { command.string(.affectedSOPClassUID) }
    public var affectedSOPInstanceUID: String? { command.string(.affectedSOPInstanceUID) }

    /// A request: its Command Field, Message ID and Affected SOP Class, plus `elements`.
    public static func request(
        _ field: CommandField, contextID: UInt8, messageID: UInt16, sopClass: String, elements: [DataElement] = [], dataset: Data? = nil
    ) -> DIMSEMessage {
        var command = Dataset()
        command[.commandField] = .us(.commandField, field.rawValue)
        command[.messageID] = .us(.messageID, messageID)
        command[.affectedSOPClassUID] = .text(.affectedSOPClassUID, .UI, sopClass)
        for element in elements { command[element.tag] = element }
        command[.commandDataSetType] = .us(.commandDataSetType, dataset == nil ? DIMSEMessage.noDataSet : 0x0001)
        return DIMSEMessage(contextID: contextID, command: command, dataset: dataset)
    }

    /// The response to this request with `status`, plus `elements` (an Error Comment, sub-operation counts).
    public func response(status: UInt16, elements: [DataElement] = [], dataset: Data? = nil) -> DIMSEMessage {
        var response = Dataset()
        if let field = commandField?.response { response[.commandField] = .us(.commandField, field.rawValue) }
        if let sopClass = affectedSOPClassUID { response[.affectedSOPClassUID] = .text(.affectedSOPClassUID, .UI, sopClass) }
        response[.messageIDBeingRespondedTo] = .us(.messageIDBeingRespondedTo, messageID ?? 0)
        if commandField == .cStoreRequest, let instance = affectedSOPInstanceUID {
            response[.affectedSOPInstanceUID] = .text(.affectedSOPInstanceUID, .UI, instance)
        }
        response[.status] = .us(.status, status)
        for element in elements { response[element.tag] = element }
        response[.commandDataSetType] = .us(.commandDataSetType, dataset == nil ? DIMSEMessage.noDataSet : 0x0001)
        return DIMSEMessage(contextID: contextID, command: response, dataset: dataset)
    }
}

extension DataElement {
    /// One US value.
    public static func us(_ tag: Tag, _ value: UInt16) -> DataElement {
        DataElement(tag: tag, vr: .US, value: .bytes(withUnsafeBytes(of: value.littleEndian) { Data($0) }))
    }

    /// An Error Comment (LO: at most 64 characters, ASCII).
    public static func errorComment(_ text: String) -> DataElement {
        let ascii = String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" })
        return .text(.errorComment, .LO, String(ascii.prefix(64)))
    }

    /// The four sub-operation counts of a C-MOVE or C-GET response.
    public static func subOperations(remaining: Int?, completed: Int, failed: Int, warning: Int) -> [DataElement] {
        var elements = [DataElement]()
        if let remaining { elements.append(.us(.numberOfRemainingSuboperations, UInt16(clamping: remaining))) }
        elements.append(.us(.numberOfCompletedSuboperations, UInt16(clamping: completed)))
        elements.append(.us(.numberOfFailedSuboperations, UInt16(clamping: failed)))
        elements.append(.us(.numberOfWarningSuboperations, UInt16(clamping: warning)))
        return elements
    }
}
