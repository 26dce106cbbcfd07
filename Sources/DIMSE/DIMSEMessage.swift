public import DICOM
public import Foundation

/// One DIMSE message (PS3.7 §6.3): its command set (group 0000, always
/// Implicit VR Little Endian) and, when the command says so, a data set
/// encoded in the presentation context's transfer syntax.
public struct DIMSEMessage: Sendable {
    public var contextID: UInt8
    public var command: Dataset
    /// The encoded data set, as it travels.
    public var dataset: Data?

    public init(contextID: UInt8, command: Dataset, dataset: Data? = nil) {
        self.contextID = contextID
        self.command = command
        self.dataset = dataset
    }

    /// Command Data Set Type (0000,0800): 0x0101 means no data set follows.
    public static let noDataSet: UInt16 = 0x0101

    /// The command set's bytes: Command Group Length first, then the elements, Implicit VR Little Endian.
    public func encodedCommand() throws(DICOMError) -> Data {
        var command = self.command
        command[.commandGroupLength] = nil
        let body = try DICOMWriter.elements(command, transferSyntax: .implicitVRLittleEndian)
        var length = Dataset()
        length[.commandGroupLength] = DataElement(
            tag: .commandGroupLength, vr: .UL, value: .bytes(withUnsafeBytes(of: UInt32(body.count).littleEndian) { Data($0) }))
        return try DICOMWriter.elements(length, transferSyntax: .implicitVRLittleEndian) + body
    }

    /// The P-DATA-TF PDUs carrying the message, each no longer than `maximumLength` (the peer's
    /// Maximum Length; 0: unlimited): one presentation data value per PDU, command fragments first.
    public func pdus(maximumLength: UInt32) throws(DICOMError) -> [PDU] {
        // A PDV item adds a 4-byte length, the context ID and the control header to its fragment.
        let room = maximumLength == 0 ? Int.max : max(1, Int(maximumLength) - 6)
        var pdus = [PDU]()
        for (bytes, isCommand) in [(try encodedCommand(), true), (dataset, false)] {
            guard let bytes else { continue }
            var start = bytes.startIndex
            repeat {
                let end = bytes.endIndex - start > room ? start + room : bytes.endIndex
                pdus.append(
                    .data([
                        PresentationDataValue(
                            contextID: contextID, isCommand: isCommand, isLastFragment: end == bytes.endIndex, data: bytes[start..<end])
                    ]))
                start = end
            } while start < bytes.endIndex
        }
        return pdus
    }
}

/// Puts DIMSE messages back together from presentation data values as they
/// arrive (PS3.8 Annex E): command fragments until the last, then, unless the
/// command says none follows, data set fragments until the last.
public struct DIMSEMessageAssembler: Sendable {
    /// Why fragments cannot form a message.
    public struct AssemblyError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The largest command or data set accepted (a data set is one instance: bounded like an upload).
    public var maximumSize: Int
    private var contextID: UInt8?
    private var command = Data()
    private var parsedCommand: Dataset?
    private var dataset = Data()

    public init(maximumSize: Int) { self.maximumSize = maximumSize }

    /// Adds one value; answers a message once it is complete.
    public mutating func add(_ value: PresentationDataValue) throws(AssemblyError) -> DIMSEMessage? {
        if let contextID, contextID != value.contextID {
            throw AssemblyError(description: "a fragment of context \(value.contextID) inside a message of context \(contextID)")
        }
        contextID = value.contextID
        if value.isCommand {
            guard parsedCommand == nil else { throw AssemblyError(description: "a command fragment after the command was complete") }
            guard command.count + value.data.count <= maximumSize else {
                throw AssemblyError(description: "command set above \(maximumSize) bytes")
            }
            command.append(value.data)
            guard value.isLastFragment else { return nil }
            let parsed: Dataset
            do {
                parsed = try DICOMReader.readElements(command, transferSyntax: .implicitVRLittleEndian)
            } catch {
                throw AssemblyError(description: "the command set cannot be read: \(error)")
            }
            if parsed.int(.commandDataSetType) == Int(DIMSEMessage.noDataSet) { return finish(parsed, dataset: nil) }
            parsedCommand = parsed
            return nil
        }
        guard let parsedCommand else { throw AssemblyError(description: "a data set fragment before its command") }
        guard dataset.count + value.data.count <= maximumSize else {
            throw AssemblyError(description: "data set above \(maximumSize) bytes")
        }
        dataset.append(value.data)
        return value.isLastFragment ? finish(parsedCommand, dataset: dataset) : nil
    }

    private mutating func finish(_ command: Dataset, dataset: Data?) -> DIMSEMessage {
        let message = DIMSEMessage(contextID: contextID ?? 0, command: command, dataset: dataset)
        contextID = nil
        self.command = Data()
        parsedCommand = nil
        self.dataset = Data()
        return message
    }
}
