import Foundation

/// Parses data elements from bytes in one transfer syntax. Every length is
/// checked against its container before use, nesting is bounded, and nothing
/// is allocated in proportion to a length the bytes do not back.
struct DatasetParser {
    private static let undefinedLength: UInt32 = 0xFFFF_FFFF

    let data: Data
    /// `data`'s bytes, valid for the parser's whole life (it lives inside
    /// `data.withUnsafeBytes`): headers are read from it, values sliced from `data`.
    private let raw: UnsafeRawBufferPointer
    var syntax: TransferSyntax
    let options: DICOMReader.Options
    var offset = 0
    var depth = 0
    var warnings: [String] = []
    /// Set when a metadata-only read met (7FE0,xxxx) and stopped there.
    private(set) var stoppedAtPixelData = false

    init(data: Data, raw: UnsafeRawBufferPointer, syntax: TransferSyntax, options: DICOMReader.Options) {
        precondition(data.startIndex == 0 && raw.count == data.count)
        self.data = data
        self.raw = raw
        self.syntax = syntax
        self.options = options
    }

    @inline(__always)
    private func uint16(_ at: Int) -> UInt16 {
        let value = raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return syntax.isLittleEndian ? UInt16(littleEndian: value) : UInt16(bigEndian: value)
    }

    @inline(__always)
    private func uint32(_ at: Int) -> UInt32 {
        let value = raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return syntax.isLittleEndian ? UInt32(littleEndian: value) : UInt32(bigEndian: value)
    }

    private struct Header {
        var tag: Tag
        var vr: VR
        var length: UInt32
        var offset: Int
    }

    // MARK: Data sets

    /// The file meta information: group 0002 elements, Explicit VR Little Endian.
    mutating func parseMetaGroup() throws(DICOMError) -> Dataset {
        var meta = Dataset()
        var declaredEnd: Int?
        while offset + 4 <= data.count, uint16(offset) == 0x0002 {
            let element = try parseElement(characterSet: .default)
            if element.tag == .fileMetaInformationGroupLength, element.vr == .UL, element.bytes.count == 4 {
                declaredEnd = offset + Int(uint32(offset - 4))
            }
            meta.appendInOrder(element)
        }
        // The group's length may be wrong (the elements are read by their group number), but a file that ends before it is cut short.
        if let declaredEnd, declaredEnd > data.count, offset == data.count {
            throw error(
                .truncated, "data ends inside the file meta information group", tag: .fileMetaInformationGroupLength, vr: .UL, at: offset)
        }
        return meta
    }

    mutating func parseTopLevel() throws(DICOMError) -> Dataset {
        try parseDataset(end: data.count, isItem: false, characterSet: .default)
    }

    /// Elements up to `end`, or up to an Item Delimitation Item when `end` is nil.
    private mutating func parseDataset(end: Int?, isItem: Bool, characterSet inherited: SpecificCharacterSet) throws(DICOMError) -> Dataset
    {
        var dataset = Dataset(characterSet: inherited)
        let limit = end ?? data.count
        while offset < limit {
            if limit - offset < 8 {
                if data[offset..<limit].allSatisfy({ $0 == 0 }) && !isItem {
                    try note("\(limit - offset) trailing zero bytes after the last element")
                    offset = limit
                    break
                }
                throw error(.truncated, "data ends inside an element header", tag: nil, vr: nil, at: offset)
            }
            let group = uint16(offset)
            let element = uint16(offset + 2)
            let tag = Tag(group, element)
            if tag == .itemDelimitationItem {
                guard isItem && end == nil else {
                    throw error(
                        .invalidStructure, "Item Delimitation Item outside an item of undefined length", tag: tag, vr: nil, at: offset)
                }
                offset += 8
                return dataset
            }
            if tag == .sequenceDelimitationItem || tag == .item {
                throw error(
                    .invalidStructure, "\(tag == .item ? "Item" : "Sequence Delimitation Item") inside a data set", tag: tag, vr: nil,
                    at: offset)
            }
            if !isItem && options.stopBeforePixelData && group == 0x7FE0 && element >= 0x0008 {
                stoppedAtPixelData = true
                offset = limit
                break
            }
            var parsed = try parseElement(characterSet: dataset.characterSet)
            if !syntax.isExplicitVR && tag == .pixelData && parsed.vr == .OW && (dataset.int(.bitsAllocated) ?? 16) <= 8 {
                // Implicit VR: 8-bit native pixel data is OB (PS3.5 §A.1 note), as pydicom reads it.
                parsed.vr = .OB
            }
            // Only an element read as US or OB can be one the dictionary gives several VRs (US or SS, OB or OW,
            // US or OW): the second dictionary lookup is spared for every other element.
            if !syntax.isExplicitVR, tag != .pixelData, parsed.vr == .US || parsed.vr == .OB, let entry = DataDictionary.entry(for: tag),
                entry.vrs.count > 1
            {
                parsed.vr = Self.resolvedVR(entry, in: dataset)
            }
            if !syntax.isLittleEndian && tag == .pixelData && parsed.vr == .OW && dataset.int(.bitsAllocated) == 32,
                case .bytes(let words) = parsed.value
            {
                // OW was swapped in 16-bit words; 32-bit pixels need their word pairs exchanged as well (as pydicom reads them).
                parsed.value = .bytes(Self.exchangedWordPairs(words))
            }
            if tag == .specificCharacterSet, let terms = Dataset([parsed]).strings(tag) {
                let characterSet = SpecificCharacterSet(terms: terms)
                if !characterSet.isSupported {
                    try note("Specific Character Set '\(characterSet)' is not supported: its text keeps its bytes")
                }
                dataset.characterSet = characterSet
            }
            dataset.appendInOrder(parsed)
        }
        if offset > limit {
            throw error(.invalidLength, "an element runs past the end of its item", tag: nil, vr: nil, at: limit)
        }
        if end == nil && isItem {
            throw error(.truncated, "item of undefined length has no Item Delimitation Item", tag: nil, vr: nil, at: offset)
        }
        return dataset
    }

    // MARK: Elements

    private mutating func parseHeader() throws(DICOMError) -> Header {
        let start = offset
        guard data.count - offset >= 8 else { throw error(.truncated, "data ends inside an element header", tag: nil, vr: nil, at: start) }
        let tag = Tag(uint16(offset), uint16(offset + 2))
        offset += 4
        guard syntax.isExplicitVR else {
            let length = uint32(offset)
            offset += 4
            return Header(tag: tag, vr: implicitVR(of: tag), length: length, offset: start)
        }
        let first = raw[offset], second = raw[offset + 1]
        var vr: VR
        if let known = VR.known(first, second) {
            vr = known
        } else if (0x41...0x5A).contains(first) && (0x41...0x5A).contains(second) {
            // A VR from a later edition: it has the long form (PS3.5 §7.1.2).
            try note("unknown VR '\(String(decoding: [first, second], as: UTF8.self))' for \(tag), read as UN")
            vr = .UN
            offset += 2
            guard data.count - offset >= 6 else {
                throw error(.truncated, "data ends inside an element header", tag: tag, vr: nil, at: start)
            }
            offset += 2
            let length = uint32(offset)
            offset += 4
            return Header(tag: tag, vr: vr, length: length, offset: start)
        } else {
            throw error(
                .invalidVR, "explicit VR bytes \(String(format: "%02X %02X", first, second)) are not a VR", tag: tag, vr: nil, at: start + 4
            )
        }
        offset += 2
        if vr.hasLongLength {
            guard data.count - offset >= 6 else {
                throw error(.truncated, "data ends inside an element header", tag: tag, vr: vr, at: start)
            }
            offset += 2
            let length = uint32(offset)
            offset += 4
            return Header(tag: tag, vr: vr, length: length, offset: start)
        }
        let length = UInt32(uint16(offset))
        offset += 2
        return Header(tag: tag, vr: vr, length: length, offset: start)
    }

    private func implicitVR(of tag: Tag) -> VR {
        if tag == .pixelData { return .OW }
        return DataDictionary.entry(for: tag)?.vr ?? .UN
    }

    private mutating func parseElement(characterSet: SpecificCharacterSet) throws(DICOMError) -> DataElement {
        var header = try parseHeader()
        if header.length == Self.undefinedLength {
            switch header.vr {
            case .SQ:
                return DataElement(
                    tag: header.tag, vr: .SQ, value: .sequence(try parseItems(of: header, end: nil, characterSet: characterSet)))
            case .UN:
                // UN of undefined length is a sequence in Implicit VR Little Endian (PS3.5 §6.2.2).
                let saved = syntax
                syntax = .implicitVRLittleEndian
                defer { syntax = saved }
                return DataElement(
                    tag: header.tag, vr: .SQ, value: .sequence(try parseItems(of: header, end: nil, characterSet: characterSet)))
            case .OB, .OW:
                return DataElement(tag: header.tag, vr: header.vr, value: .encapsulated(try parseFragments(of: header)))
            default:
                throw error(.invalidLength, "undefined length on a \(header.vr) element", tag: header.tag, vr: header.vr, at: header.offset)
            }
        }
        let length = Int(header.length)
        guard length <= data.count - offset else {
            throw error(
                .invalidLength, "value length \(length) runs past the end of the data (\(data.count - offset) bytes left)",
                tag: header.tag, vr: header.vr, at: header.offset)
        }
        let start = offset
        let end = start + length
        if header.vr == .SQ {
            let items = try parseItems(of: header, end: end, characterSet: characterSet)
            return DataElement(tag: header.tag, vr: .SQ, value: .sequence(items))
        }
        if length % 2 == 1 { try note("odd value length \(length) for \(header.tag) \(header.vr)") }
        if header.vr == .UN, let entry = DataDictionary.entry(for: header.tag), entry.vr != .UN {
            // UN whose tag the dictionary knows: re-read with the dictionary's VR (the bytes are implicit little endian).
            if entry.vr == .SQ {
                var nested = DatasetParser(data: data, raw: raw, syntax: .implicitVRLittleEndian, options: options)
                nested.offset = start
                nested.depth = depth
                let items = try nested.parseItems(
                    of: Header(tag: header.tag, vr: .SQ, length: header.length, offset: header.offset), end: end, characterSet: characterSet
                )
                warnings += nested.warnings
                offset = end
                return DataElement(tag: header.tag, vr: .SQ, value: .sequence(items))
            }
            header.vr = entry.vr
            offset = end
            return DataElement(tag: header.tag, vr: header.vr, value: .bytes(data[start..<end]))
        }
        offset = end
        var value = data[start..<end]
        if !syntax.isLittleEndian, let size = header.vr.numberSize {
            value = Self.swapped(value, wordSize: header.vr == .AT ? 2 : size)
        }
        return DataElement(tag: header.tag, vr: header.vr, value: .bytes(value))
    }

    /// Big-endian numbers to little-endian.
    private static func swapped(_ value: Data, wordSize: Int) -> Data {
        var bytes = [UInt8](value)
        var index = 0
        while index + wordSize <= bytes.count {
            bytes[index..<index + wordSize].reverse()
            index += wordSize
        }
        return Data(bytes)
    }

    /// Implicit VR, where the dictionary allows several VRs (pydicom's rules): `US or SS` by Pixel
    /// Representation, except LUT descriptors (always US); `OB or OW` and `US or OW` as OW.
    private static func resolvedVR(_ entry: DataDictionary.Entry, in dataset: Dataset) -> VR {
        if entry.vrs.contains(.SS) && entry.vrs.contains(.US) {
            let descriptors: Set<Tag> = [
                .redPaletteColorLookupTableDescriptor, .greenPaletteColorLookupTableDescriptor, .bluePaletteColorLookupTableDescriptor,
                .lutDescriptor,
            ]
            if descriptors.contains(entry.tag) { return .US }
            return dataset.int(.pixelRepresentation) == 1 ? .SS : .US
        }
        if entry.vrs.contains(.OW) { return .OW }
        return entry.vr
    }

    private static func exchangedWordPairs(_ value: Data) -> Data {
        var bytes = [UInt8](value)
        var index = 0
        while index + 4 <= bytes.count {
            bytes.swapAt(index, index + 2)
            bytes.swapAt(index + 1, index + 3)
            index += 4
        }
        return Data(bytes)
    }

    // MARK: Sequences and fragments

    private mutating func parseItems(of header: Header, end: Int?, characterSet: SpecificCharacterSet) throws(DICOMError) -> [Dataset] {
        depth += 1
        defer { depth -= 1 }
        guard depth <= options.maximumDepth else {
            throw error(
                .nestingTooDeep, "sequences nested deeper than \(options.maximumDepth)", tag: header.tag, vr: .SQ, at: header.offset)
        }
        var items = [Dataset]()
        while true {
            if let end, offset >= end {
                if offset > end {
                    throw error(.invalidLength, "an item runs past the end of its sequence", tag: header.tag, vr: .SQ, at: end)
                }
                return items
            }
            guard data.count - offset >= 8 else {
                throw error(.truncated, "data ends inside sequence \(header.tag)", tag: header.tag, vr: .SQ, at: offset)
            }
            let itemStart = offset
            let tag = Tag(uint16(offset), uint16(offset + 2))
            let length = uint32(offset + 4)
            offset += 8
            if tag == .sequenceDelimitationItem {
                guard end == nil else {
                    throw error(
                        .invalidStructure, "Sequence Delimitation Item in a sequence of defined length", tag: header.tag, vr: .SQ,
                        at: itemStart)
                }
                return items
            }
            guard tag == .item else {
                throw error(
                    .invalidStructure, "expected an Item in sequence \(header.tag), found \(tag)", tag: header.tag, vr: .SQ, at: itemStart)
            }
            if length == Self.undefinedLength {
                items.append(try parseDataset(end: nil, isItem: true, characterSet: characterSet))
            } else {
                let itemEnd = offset + Int(length)
                guard Int(length) <= data.count - offset, end.map({ itemEnd <= $0 }) ?? true else {
                    throw error(.invalidLength, "item length \(length) runs past its container", tag: header.tag, vr: .SQ, at: itemStart)
                }
                items.append(try parseDataset(end: itemEnd, isItem: true, characterSet: characterSet))
                offset = itemEnd
            }
        }
    }

    private mutating func parseFragments(of header: Header) throws(DICOMError) -> EncapsulatedPixelData {
        var offsetTable: Data?
        var fragments = [Data]()
        while true {
            guard data.count - offset >= 8 else {
                throw error(.truncated, "data ends inside encapsulated pixel data", tag: header.tag, vr: header.vr, at: offset)
            }
            let itemStart = offset
            // Encapsulated pixel data only exists in little-endian syntaxes.
            let tag = Tag(uint16(offset), uint16(offset + 2))
            let length = uint32(offset + 4)
            offset += 8
            if tag == .sequenceDelimitationItem {
                return EncapsulatedPixelData(basicOffsetTable: offsetTable ?? Data(), fragments: fragments)
            }
            guard tag == .item else {
                throw error(.invalidStructure, "expected a fragment Item, found \(tag)", tag: header.tag, vr: header.vr, at: itemStart)
            }
            guard length != Self.undefinedLength, Int(length) <= data.count - offset else {
                throw error(
                    .invalidLength, "fragment length \(length) runs past the end of the data", tag: header.tag, vr: header.vr, at: itemStart
                )
            }
            let fragment = data[offset..<offset + Int(length)]
            offset += Int(length)
            if offsetTable == nil { offsetTable = fragment } else { fragments.append(fragment) }
        }
    }

    // MARK: Errors and warnings

    /// Something the standard forbids but that can be read: recorded, ignored or refused per the validation mode.
    private mutating func note(_ warning: String) throws(DICOMError) {
        try options.validation.handle(warning, into: &warnings, offset: offset, syntax: syntax.uid)
    }

    private func error(_ code: DICOMError.Code, _ message: String, tag: Tag?, vr: VR?, at offset: Int) -> DICOMError {
        DICOMError(code, message, tag: tag, vr: vr, offset: offset, transferSyntax: syntax.uid)
    }
}
