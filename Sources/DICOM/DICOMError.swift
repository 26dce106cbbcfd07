/// Why bytes could not be read (or written) as DICOM, with where it happened:
/// the tag and VR being read, the byte offset in the file, the transfer syntax.
public struct DICOMError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Sendable {
            case notDICOM = "not DICOM"
            case truncated = "truncated"
            case invalidLength = "invalid length"
            case invalidVR = "invalid VR"
            case invalidStructure = "invalid structure"
            case nestingTooDeep = "nesting too deep"
            case valueTooLarge = "value too large"
            case invalidValue = "invalid value"
            case unsupportedTransferSyntax = "unsupported transfer syntax"
            case deflate = "deflate error"
            case io = "I/O error"
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// Neither a Part 10 file nor a recognisable data set.
        public static let notDICOM = Code(.notDICOM)
        /// The data ends inside an element.
        public static let truncated = Code(.truncated)
        /// A length runs past its container, or is undefined where it may not be.
        public static let invalidLength = Code(.invalidLength)
        /// An explicit VR that is not two letters.
        public static let invalidVR = Code(.invalidVR)
        /// Items, delimiters or fragments where they do not belong.
        public static let invalidStructure = Code(.invalidStructure)
        /// Sequences nested deeper than the reader's limit.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// A value above the reader's size limit.
        public static let valueTooLarge = Code(.valueTooLarge)
        /// A value that does not fit its VR (raised in validation mode `raise`).
        public static let invalidValue = Code(.invalidValue)
        /// Pixel data in a syntax this codec cannot decode.
        public static let unsupportedTransferSyntax = Code(.unsupportedTransferSyntax)
        /// A deflated data set that does not inflate.
        public static let deflate = Code(.deflate)
        /// The file could not be read or written.
        public static let io = Code(.io)

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    public var tag: Tag?
    public var vr: VR?
    public var offset: Int?
    public var transferSyntax: String?

    public init(_ code: Code, _ message: String, tag: Tag? = nil, vr: VR? = nil, offset: Int? = nil, transferSyntax: String? = nil) {
        self.code = code
        self.message = message
        self.tag = tag
        self.vr = vr
        self.offset = offset
        self.transferSyntax = transferSyntax
    }

    public var description: String {
        var parts = ["\(code): \(message)"]
        if let tag { parts.append("tag \(tag)") }
        if let vr { parts.append("VR \(vr)") }
        if let offset { parts.append("offset \(offset)") }
        if let transferSyntax { parts.append("transfer syntax \(transferSyntax)") }
        return parts.joined(separator: ", ")
    }
}
