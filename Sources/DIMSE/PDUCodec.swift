public import Foundation

/// Why bytes are not a valid PDU: what was wrong and where (the byte offset in the PDU).
public struct PDUError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public let offset: Int

    public var description: String { "\(message) (at byte \(offset) of the PDU)" }
}

/// Encodes and decodes Upper Layer PDUs (PS3.8 §9.3). Every length is checked
/// against what contains it before use; nothing is allocated in proportion to
/// a length the bytes do not back.
public enum PDUCodec {
    /// The 6-byte header: type, reserved, length of what follows (big endian).
    public static let headerLength = 6

    /// The length a PDU header announces, once `header` holds at least 6 bytes.
    public static func announcedLength(_ header: some Collection<UInt8>) -> (type: UInt8, length: UInt32)? {
        guard header.count >= headerLength else { return nil }
        let bytes = Array(header.prefix(headerLength))
        return (bytes[0], UInt32(bytes[2]) << 24 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 8 | UInt32(bytes[5]))
    }

    // MARK: Encoding

    public static func encode(_ pdu: PDU) -> Data {
        var body = Writer()
        switch pdu {
        case .associateRequest(let request):
            body.associationHeader(called: request.calledAETitle, calling: request.callingAETitle)
            body.item(0x10, Data(request.applicationContext.utf8))
            for context in request.presentationContexts {
                var item = Writer()
                item.bytes += [context.id, 0, 0, 0]
                item.item(0x30, Data(context.abstractSyntax.utf8))
                for syntax in context.transferSyntaxes { item.item(0x40, Data(syntax.utf8)) }
                body.item(0x20, Data(item.bytes))
            }
            body.item(0x50, userInformation(request.userInformation))
        case .associateAccept(let accept):
            body.associationHeader(called: accept.calledAETitle, calling: accept.callingAETitle)
            body.item(0x10, Data(accept.applicationContext.utf8))
            for context in accept.presentationContexts {
                var item = Writer()
                item.bytes += [context.id, 0, context.result.rawValue, 0]
                item.item(0x40, Data(context.transferSyntax.utf8))
                body.item(0x21, Data(item.bytes))
            }
            body.item(0x50, userInformation(accept.userInformation))
        case .associateReject(let reject):
            body.bytes += [0, reject.result, reject.source, reject.reason]
        case .data(let values):
            for value in values {
                body.uint32(UInt32(value.data.count + 2))
                body.bytes += [value.contextID, (value.isCommand ? 1 : 0) | (value.isLastFragment ? 2 : 0)]
                body.bytes += value.data
            }
        case .releaseRequest, .releaseResponse:
            body.bytes += [0, 0, 0, 0]
        case .abort(let source, let reason):
            body.bytes += [0, 0, source, reason]
        }
        var output = Writer()
        output.bytes += [pdu.type, 0]
        output.uint32(UInt32(body.bytes.count))
        output.bytes += body.bytes
        return Data(output.bytes)
    }

    private static func userInformation(_ info: UserInformation) -> Data {
        var items = Writer()
        var length = Writer()
        length.uint32(info.maximumLength)
        items.item(0x51, Data(length.bytes))
        items.item(0x52, Data(info.implementationClassUID.utf8))
        if let window = info.asynchronousOperations {
            var value = Writer()
            value.uint16(window.invoked)
            value.uint16(window.performed)
            items.item(0x53, Data(value.bytes))
        }
        for role in info.roles {
            var value = Writer()
            value.uint16(UInt16(role.abstractSyntax.utf8.count))
            value.bytes += Array(role.abstractSyntax.utf8) + [role.scu ? 1 : 0, role.scp ? 1 : 0]
            items.item(0x54, Data(value.bytes))
        }
        if let name = info.implementationVersionName { items.item(0x55, Data(name.utf8)) }
        return Data(items.bytes)
    }

    // MARK: Decoding

    /// Decodes one whole PDU (header included).
    public static func decode(_ data: Data) throws(PDUError) -> PDU {
        var reader = Reader(bytes: [UInt8](data))
        let type = try reader.uint8()
        try reader.skip(1)
        let length = Int(try reader.uint32())
        guard length == reader.remaining else {
            throw PDUError(message: "PDU length \(length) but \(reader.remaining) bytes follow the header", offset: 2)
        }
        switch type {
        case 0x01, 0x02:
            try reader.expectProtocolVersion()
            try reader.skip(2)
            let called = try reader.aeTitle(), calling = try reader.aeTitle()
            try reader.skip(32)
            var applicationContext: String?
            var proposed = [ProposedContext](), accepted = [AcceptedContext]()
            var user: UserInformation?
            while reader.remaining > 0 {
                let (itemType, start, end) = try reader.item()
                switch itemType {
                case 0x10: applicationContext = try reader.text(upTo: end)
                case 0x20 where type == 0x01: proposed.append(try reader.proposedContext(upTo: end))
                case 0x21 where type == 0x02: accepted.append(try reader.acceptedContext(upTo: end))
                case 0x50: user = try reader.userInformation(upTo: end)
                default: throw PDUError(message: String(format: "unexpected item type 0x%02X", itemType), offset: start)
                }
                reader.position = end
            }
            guard let applicationContext else { throw PDUError(message: "no Application Context item", offset: reader.position) }
            guard let user else { throw PDUError(message: "no User Information item", offset: reader.position) }
            if type == 0x01 {
                var request = AssociationRequest(
                    calledAETitle: called, callingAETitle: calling, presentationContexts: proposed, userInformation: user)
                request.applicationContext = applicationContext
                return .associateRequest(request)
            }
            var accept = AssociationAccept(
                calledAETitle: called, callingAETitle: calling, presentationContexts: accepted, userInformation: user)
            accept.applicationContext = applicationContext
            return .associateAccept(accept)
        case 0x03:
            try reader.skip(1)
            return .associateReject(AssociationReject(result: try reader.uint8(), source: try reader.uint8(), reason: try reader.uint8()))
        case 0x04:
            var values = [PresentationDataValue]()
            while reader.remaining > 0 {
                let start = reader.position
                let itemLength = Int(try reader.uint32())
                guard itemLength >= 2, itemLength <= reader.remaining else {
                    throw PDUError(message: "presentation data value length \(itemLength) does not fit the PDU", offset: start)
                }
                let id = try reader.uint8(), header = try reader.uint8()
                let data = Data(try reader.take(itemLength - 2))
                values.append(PresentationDataValue(contextID: id, isCommand: header & 1 != 0, isLastFragment: header & 2 != 0, data: data))
            }
            guard !values.isEmpty else { throw PDUError(message: "P-DATA-TF without a presentation data value", offset: 6) }
            return .data(values)
        case 0x05, 0x06:
            guard length == 4 else { throw PDUError(message: "release PDU of length \(length), not 4", offset: 2) }
            return type == 0x05 ? .releaseRequest : .releaseResponse
        case 0x07:
            try reader.skip(2)
            return .abort(source: try reader.uint8(), reason: try reader.uint8())
        default:
            throw PDUError(message: String(format: "unknown PDU type 0x%02X", type), offset: 0)
        }
    }
}

private struct Writer {
    var bytes: [UInt8] = []

    mutating func uint16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func uint32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// An item or sub-item: type, reserved, 2-byte length, value.
    mutating func item(_ type: UInt8, _ value: Data) {
        bytes += [type, 0]
        uint16(UInt16(value.count))
        bytes += value
    }

    mutating func associationHeader(called: String, calling: String) {
        uint16(1)  // protocol version
        bytes += [0, 0]
        bytes += Self.aeTitle(called) + Self.aeTitle(calling)
        bytes += [UInt8](repeating: 0, count: 32)
    }

    static func aeTitle(_ title: String) -> [UInt8] {
        let text = Array(title.utf8.prefix(16))
        return text + [UInt8](repeating: 0x20, count: 16 - text.count)
    }
}

private struct Reader {
    let bytes: [UInt8]
    var position = 0

    var remaining: Int { bytes.count - position }

    mutating func take(_ count: Int) throws(PDUError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw PDUError(message: "the PDU ends \(count - remaining) bytes early", offset: position)
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func skip(_ count: Int) throws(PDUError) { _ = try take(count) }
    mutating func uint8() throws(PDUError) -> UInt8 { try take(1).first! }
    mutating func uint16() throws(PDUError) -> UInt16 {
        let pair = try take(2)
        return UInt16(pair[pair.startIndex]) << 8 | UInt16(pair[pair.startIndex + 1])
    }
    mutating func uint32() throws(PDUError) -> UInt32 { UInt32(try uint16()) << 16 | UInt32(try uint16()) }

    mutating func expectProtocolVersion() throws(PDUError) {
        let version = try uint16()
        guard version & 1 == 1 else {
            throw PDUError(message: "protocol version \(version) does not include version 1", offset: position - 2)
        }
    }

    mutating func aeTitle() throws(PDUError) -> String {
        let start = position
        let title = String(decoding: try take(16), as: UTF8.self).trimmingCharacters(in: .whitespaces.union(.controlCharacters))
        guard !title.isEmpty else { throw PDUError(message: "empty AE title", offset: start) }
        return title
    }

    /// An item's header: its type, where it starts, and where it ends (checked against the PDU).
    mutating func item() throws(PDUError) -> (type: UInt8, start: Int, end: Int) {
        let start = position
        let type = try uint8()
        try skip(1)
        let length = Int(try uint16())
        guard length <= remaining else { throw PDUError(message: "item length \(length) runs past its PDU", offset: start) }
        return (type, start, position + length)
    }

    mutating func text(upTo end: Int) throws(PDUError) -> String {
        let value = try take(end - position)
        return String(decoding: value, as: UTF8.self).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\0")))
    }

    mutating func proposedContext(upTo end: Int) throws(PDUError) -> ProposedContext {
        let id = try uint8()
        try skip(3)
        var abstract: String?
        var transfer = [String]()
        while position < end {
            let (type, start, itemEnd) = try item()
            guard itemEnd <= end else { throw PDUError(message: "sub-item runs past its presentation context", offset: start) }
            switch type {
            case 0x30: abstract = try text(upTo: itemEnd)
            case 0x40: transfer.append(try text(upTo: itemEnd))
            default: throw PDUError(message: String(format: "unexpected sub-item 0x%02X in a presentation context", type), offset: start)
            }
            position = itemEnd
        }
        guard let abstract, !transfer.isEmpty else {
            throw PDUError(message: "presentation context \(id) lacks its abstract syntax or transfer syntaxes", offset: position)
        }
        return ProposedContext(id: id, abstractSyntax: abstract, transferSyntaxes: transfer)
    }

    mutating func acceptedContext(upTo end: Int) throws(PDUError) -> AcceptedContext {
        let id = try uint8()
        try skip(1)
        let resultByte = try uint8()
        try skip(1)
        guard let result = AcceptedContext.Result(rawValue: resultByte) else {
            throw PDUError(message: "presentation context result \(resultByte)", offset: position - 2)
        }
        var transfer = ""
        while position < end {
            let (type, start, itemEnd) = try item()
            guard itemEnd <= end, type == 0x40 else { throw PDUError(message: "unexpected sub-item in an accepted context", offset: start) }
            transfer = try text(upTo: itemEnd)
        }
        return AcceptedContext(id: id, result: result, transferSyntax: transfer)
    }

    mutating func userInformation(upTo end: Int) throws(PDUError) -> UserInformation {
        var info = UserInformation(maximumLength: 0, implementationClassUID: "")
        var sawClass = false
        while position < end {
            let (type, start, itemEnd) = try item()
            guard itemEnd <= end else { throw PDUError(message: "sub-item runs past the User Information item", offset: start) }
            switch type {
            case 0x51:
                guard itemEnd - position == 4 else { throw PDUError(message: "maximum length sub-item is not 4 bytes", offset: start) }
                info.maximumLength = try uint32()
            case 0x52:
                info.implementationClassUID = try text(upTo: itemEnd)
                sawClass = true
            case 0x53:
                guard itemEnd - position == 4 else {
                    throw PDUError(message: "asynchronous operations sub-item is not 4 bytes", offset: start)
                }
                info.asynchronousOperations = (try uint16(), try uint16())
            case 0x54:
                let uidLength = Int(try uint16())
                guard uidLength + 2 == itemEnd - position else { throw PDUError(message: "role selection sub-item length", offset: start) }
                let uid = String(decoding: try take(uidLength), as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
                info.roles.append(.init(abstractSyntax: uid, scu: try uint8() == 1, scp: try uint8() == 1))
            case 0x55: info.implementationVersionName = try text(upTo: itemEnd)
            default: break  // extended negotiation, user identity, …: not negotiated here, skipped
            }
            position = itemEnd
        }
        guard sawClass else { throw PDUError(message: "no Implementation Class UID sub-item", offset: position) }
        return info
    }
}
