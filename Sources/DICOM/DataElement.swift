public import Foundation

/// One attribute of a data set: tag, VR and value. Binary values are kept in
/// little-endian byte order (a big-endian file's are swapped when read); text
/// is kept as its encoded bytes and decoded on access.
public struct DataElement: Sendable {
    public enum Value: Sendable {
        /// The value's bytes, without padding removed; a view into the file, not a copy.
        case bytes(Data)
        /// The items of a sequence (SQ).
        case sequence([Dataset])
        /// Encapsulated (compressed) pixel data, kept exactly as read.
        case encapsulated(EncapsulatedPixelData)
    }

    public let tag: Tag
    public var vr: VR
    public var value: Value

    public init(tag: Tag, vr: VR, value: Value) {
        self.tag = tag
        self.vr = vr
        self.value = value
    }

    /// The raw bytes of a non-sequence value; empty for sequences and encapsulated data.
    public var bytes: Data {
        if case .bytes(let data) = value { return data }
        return Data()
    }

    /// The dictionary's keyword, or "" for private and unknown tags.
    public var keyword: String { DataDictionary.entry(for: tag)?.keyword ?? "" }
}

/// Encapsulated pixel data (PS3.5 A.4): the Basic Offset Table and the fragments.
public struct EncapsulatedPixelData: Sendable, Equatable {
    /// The first item's bytes: frame offsets, often empty.
    public var basicOffsetTable: Data
    public var fragments: [Data]

    public init(basicOffsetTable: Data, fragments: [Data]) {
        self.basicOffsetTable = basicOffsetTable
        self.fragments = fragments
    }
}
