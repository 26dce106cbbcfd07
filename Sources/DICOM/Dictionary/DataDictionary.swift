/// The public data dictionary of PS3.6: VR, VM, keyword and name of every
/// public tag, including repeating groups (`60xx`, `50xx`, ...). Generated
/// from the standard by `deploy/dicom/gen-dictionary.py`.
public enum DataDictionary {
    /// One attribute of the dictionary.
    public struct Entry: Sendable, Hashable {
        public let tag: Tag
        /// Allowed VRs; more than one for e.g. `US or SS`, `OB or OW`.
        public let vrs: [VR]
        public let vm: String
        public let keyword: String
        public let name: String
        public let isRetired: Bool

        /// The VR an implicit-VR reader uses when the dictionary offers several.
        public var vr: VR { vrs.first ?? .UN }
    }

    private struct Mask: Sendable {
        let value: UInt32
        let mask: UInt32
        let entry: Entry
    }

    private struct Tables: Sendable {
        var byTag: [Tag: Entry] = [:]
        var byKeyword: [String: Entry] = [:]
        var masks: [Mask] = []
    }

    private static let tables: Tables = {
        var tables = Tables()
        tables.byTag.reserveCapacity(5200)
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 6 else { continue }
            let tagText = fields[0]
            let vrs = fields[1].split(separator: " ").compactMap { VR($0) }
            var value: UInt32 = 0
            var mask: UInt32 = 0
            for character in tagText {
                value <<= 4
                mask <<= 4
                if let digit = character.hexDigitValue {
                    value |= UInt32(digit)
                    mask |= 0xF
                }
            }
            let entry = Entry(
                tag: Tag(rawValue: value), vrs: vrs, vm: String(fields[2]), keyword: String(fields[3]),
                name: String(fields[4]), isRetired: fields[5] == "R")
            if mask == 0xFFFF_FFFF {
                tables.byTag[entry.tag] = entry
            } else {
                tables.masks.append(Mask(value: value, mask: mask, entry: entry))
            }
            if !entry.keyword.isEmpty { tables.byKeyword[entry.keyword] = entry }
        }
        return tables
    }()

    /// The entry of a public tag, repeating groups included; `nil` for private
    /// and unknown tags. Group length elements `(gggg,0000)` are UL.
    public static func entry(for tag: Tag) -> Entry? {
        if let entry = tables.byTag[tag] { return entry }
        for mask in tables.masks where tag.rawValue & mask.mask == mask.value {
            let entry = mask.entry
            return Entry(tag: tag, vrs: entry.vrs, vm: entry.vm, keyword: entry.keyword, name: entry.name, isRetired: entry.isRetired)
        }
        if tag.isGroupLength {
            return Entry(tag: tag, vrs: [.UL], vm: "1", keyword: "GroupLength", name: "Group Length", isRetired: true)
        }
        if tag.isPrivateCreator {
            return Entry(tag: tag, vrs: [.LO], vm: "1", keyword: "PrivateCreator", name: "Private Creator", isRetired: false)
        }
        return nil
    }

    /// The entry whose keyword is `keyword` (e.g. `PatientName`).
    public static func entry(forKeyword keyword: String) -> Entry? {
        tables.byKeyword[keyword]
    }

    /// How many tags and masks the dictionary holds.
    public static var count: Int { tables.byTag.count + tables.masks.count }
}
