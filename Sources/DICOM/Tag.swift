/// A DICOM attribute tag: group and element, e.g. `(0010,0010)` Patient's Name.
public struct Tag: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `group << 16 | element`.
    public let rawValue: UInt32

    public init(_ group: UInt16, _ element: UInt16) {
        rawValue = UInt32(group) << 16 | UInt32(element)
    }

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public var group: UInt16 { UInt16(rawValue >> 16) }
    public var element: UInt16 { UInt16(rawValue & 0xFFFF) }

    /// Odd groups (other than 1, 3, 5, 7 and FFFF) hold private attributes.
    public var isPrivate: Bool { group & 1 == 1 && group > 0x0008 && group != 0xFFFF }
    /// `(gggg,0010-00FF)` in a private group: reserves a block for a creator.
    public var isPrivateCreator: Bool { isPrivate && (0x0010...0x00FF).contains(element) }
    /// `(gggg,0000)`: the length of the group that follows (retired but found in files).
    public var isGroupLength: Bool { element == 0 }

    public static func < (lhs: Tag, rhs: Tag) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `(GGGG,EEEE)` in upper-case hex, as dcmdump writes it.
    public var description: String {
        "(" + Self.hex(group) + "," + Self.hex(element) + ")"
    }

    /// `GGGGEEEE`, as the DICOM JSON model keys attributes.
    public var jsonKey: String { Self.hex(group) + Self.hex(element) }

    static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

// Named tags (`Tag.patientName`, `Tag.pixelData`, …) are generated for every keyword of the dictionary: Dictionary/Tag+Keywords.swift.
