public import Foundation

/// An ordered set of data elements, sorted by tag, as in a DICOM file or a
/// sequence item. Text values decode with `characterSet` (from Specific
/// Character Set, inherited by sequence items).
public struct Dataset: Sendable {
    public private(set) var elements: [DataElement] = []
    /// How text values with a character-set VR are decoded.
    public var characterSet: SpecificCharacterSet = .default

    public init(_ elements: [DataElement] = [], characterSet: SpecificCharacterSet = .default) {
        self.characterSet = characterSet
        for element in elements { self[element.tag] = element }
    }

    public var count: Int { elements.count }
    public var isEmpty: Bool { elements.isEmpty }
    public var tags: [Tag] { elements.map(\.tag) }

    /// The element of `tag`; setting `nil` removes it. Keeps tag order.
    public subscript(tag: Tag) -> DataElement? {
        get {
            let index = insertionIndex(of: tag)
            return index < elements.count && elements[index].tag == tag ? elements[index] : nil
        }
        set {
            let index = insertionIndex(of: tag)
            let present = index < elements.count && elements[index].tag == tag
            switch (newValue, present) {
            case (let element?, true): elements[index] = element
            case (let element?, false): elements.insert(element, at: index)
            case (nil, true): elements.remove(at: index)
            case (nil, false): break
            }
        }
    }

    /// Appends an element whose tag is above every present one (the reader's fast path).
    mutating func appendInOrder(_ element: DataElement) {
        if let last = elements.last, last.tag >= element.tag {
            self[element.tag] = element
        } else {
            elements.append(element)
        }
    }

    private func insertionIndex(of tag: Tag) -> Int {
        var low = 0, high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if elements[middle].tag < tag { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Typed access

    /// Text values, split at backslashes (except LT, ST, UT, UR), trailing padding removed.
    public func strings(_ tag: Tag) -> [String]? {
        guard let element = self[tag], element.vr.isText || element.vr == .UN, case .bytes(let data) = element.value else {
            return nil
        }
        let text = element.vr.usesCharacterSet ? characterSet.decode(data, vr: element.vr) : String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingPadding()
        guard element.vr.isMultiValuedText else { return [trimmed] }
        return trimmed.split(separator: "\\", omittingEmptySubsequences: false).map {
            element.vr == .PN || element.vr.usesCharacterSet
                ? String($0).trimmingPadding() : String($0).trimmingCharacters(in: .whitespaces)
        }
    }

    /// The first text value.
    public func string(_ tag: Tag) -> String? { strings(tag)?.first }

    /// Numbers of a binary numeric VR (US, SS, UL, SL, FL, FD, SV, UV, OW, ...) or of IS/DS text.
    public func numbers(_ tag: Tag) -> [Double]? {
        guard let element = self[tag], case .bytes(let data) = element.value else { return nil }
        switch element.vr {
        case .IS, .DS:
            return strings(tag)?.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        case .US, .OW: return data.littleEndianArray(of: UInt16.self).map { Double($0) }
        case .SS: return data.littleEndianArray(of: Int16.self).map { Double($0) }
        case .UL, .OL: return data.littleEndianArray(of: UInt32.self).map { Double($0) }
        case .SL: return data.littleEndianArray(of: Int32.self).map { Double($0) }
        case .UV, .OV: return data.littleEndianArray(of: UInt64.self).map { Double($0) }
        case .SV: return data.littleEndianArray(of: Int64.self).map { Double($0) }
        case .FL, .OF: return data.littleEndianArray(of: UInt32.self).map { Double(Float(bitPattern: $0)) }
        case .FD, .OD: return data.littleEndianArray(of: UInt64.self).map { Double(bitPattern: $0) }
        default: return nil
        }
    }

    /// The first number, as an integer.
    public func int(_ tag: Tag) -> Int? {
        numbers(tag)?.first.flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil }
    }

    /// The first number.
    public func double(_ tag: Tag) -> Double? { numbers(tag)?.first }

    /// Person names, split into groups and components.
    public func personNames(_ tag: Tag) -> [PersonName]? {
        strings(tag)?.map(PersonName.init(parsing:))
    }

    /// The items of a sequence.
    public func items(_ tag: Tag) -> [Dataset]? {
        guard case .sequence(let items)? = self[tag]?.value else { return nil }
        return items
    }
}

extension String {
    /// Without trailing spaces and NULs (DICOM padding) — leading spaces are significant.
    func trimmingPadding() -> String {
        var end = endIndex
        while end > startIndex {
            let previous = index(before: end)
            guard self[previous] == " " || self[previous] == "\0" else { break }
            end = previous
        }
        return String(self[startIndex..<end])
    }
}

extension Data {
    /// The bytes read as little-endian integers of type `T` (a trailing partial value is dropped).
    func littleEndianArray<T: FixedWidthInteger>(of type: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let count = self.count / size
        return withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
        }
    }
}
