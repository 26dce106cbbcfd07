public import Foundation

/// The DICOM JSON model (PS3.18 §F.2), the body of QIDO-RS and WADO-RS metadata.
public enum DICOMJSON {
    /// Decides, for a binary value, the BulkDataURI to write instead of its
    /// bytes; `nil` writes the bytes as InlineBinary. Called with the element
    /// and its path from the top-level data set: tags and 0-based item
    /// indexes joined by "/" ("7FE00010", "00880200/0/7FE00010").
    public typealias BulkDataURIProvider = @Sendable (_ element: DataElement, _ path: String) -> String?

    /// The data set as a DICOM JSON object keyed by `GGGGEEEE`.
    public static func encode(_ dataset: Dataset, bulkDataURI: BulkDataURIProvider? = nil) -> JSONValue {
        encode(dataset, path: "", bulkDataURI: bulkDataURI)
    }

    /// UTF-8 JSON text, keys sorted.
    public static func data(_ dataset: Dataset, bulkDataURI: BulkDataURIProvider? = nil) -> Data {
        Data(encode(dataset, bulkDataURI: bulkDataURI).jsonText.utf8)
    }

    private static func encode(_ dataset: Dataset, path: String, bulkDataURI: BulkDataURIProvider?) -> JSONValue {
        var object = [String: JSONValue]()
        for element in dataset.elements {
            var attribute: [String: JSONValue] = ["vr": .string(element.vr.description)]
            let elementPath = path.isEmpty ? element.tag.jsonKey : path + "/" + element.tag.jsonKey
            switch element.value {
            case .sequence(let items):
                if !items.isEmpty {
                    attribute["Value"] = .array(
                        items.enumerated().map { encode($1, path: elementPath + "/\($0)", bulkDataURI: bulkDataURI) })
                }
            case .encapsulated(let pixels):
                if let uri = bulkDataURI?(element, elementPath) {
                    attribute["BulkDataURI"] = .string(uri)
                } else {
                    var writer = ByteWriter()
                    for fragment in [pixels.basicOffsetTable] + pixels.fragments {
                        writer.tag(.item)
                        writer.uint32(UInt32(fragment.count))
                        writer.bytes.append(contentsOf: fragment)
                    }
                    attribute["InlineBinary"] = .string(Data(writer.bytes).base64EncodedString())
                }
            case .bytes(let data):
                if let value = values(of: element, data: data, in: dataset) {
                    if !value.isEmpty { attribute["Value"] = .array(value) }
                } else if !data.isEmpty {
                    if let uri = bulkDataURI?(element, elementPath) {
                        attribute["BulkDataURI"] = .string(uri)
                    } else {
                        attribute["InlineBinary"] = .string(data.base64EncodedString())
                    }
                }
            }
            object[element.tag.jsonKey] = .object(attribute)
        }
        return .object(object)
    }

    /// JSON values of a non-binary element; nil for binary VRs (OB, OW, UN, ...).
    private static func values(of element: DataElement, data: Data, in dataset: Dataset) -> [JSONValue]? {
        let vr = element.vr
        switch vr {
        case .PN:
            return (dataset.strings(element.tag) ?? []).filter { !$0.isEmpty }.map { text in
                let groups = text.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                var name = [String: JSONValue]()
                for (key, group) in zip(["Alphabetic", "Ideographic", "Phonetic"], groups) where !group.isEmpty {
                    name[key] = .string(group)
                }
                return .object(name)
            }
        case .IS, .DS:
            return (dataset.strings(element.tag) ?? []).filter { !$0.isEmpty }.map { text in
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if vr == .IS, let integer = Int64(trimmed) { return .integer(integer) }
                if let number = Double(trimmed) { return .number(number) }
                return .string(trimmed)
            }
        case .AT:
            return data.littleEndianArray(of: UInt16.self).chunked(2).map { pair in
                .string(Tag(pair.first ?? 0, pair.dropFirst().first ?? 0).jsonKey)
            }
        case .US, .SS, .UL, .SL, .SV, .UV:
            return (dataset.numbers(element.tag) ?? []).map { value in Int64(exactly: value).map { .integer($0) } ?? .number(value) }
        case .FL, .FD:
            return (dataset.numbers(element.tag) ?? []).map { .number($0) }
        default:
            guard vr.isText else { return nil }
            let strings = dataset.strings(element.tag) ?? []
            return strings == [""] ? [] : strings.map { .string($0) }
        }
    }

    // MARK: Decoding

    /// Reads a DICOM JSON object back into a data set. `bulkData` resolves
    /// BulkDataURIs (nil leaves such elements empty).
    public static func decode(_ json: Data, bulkData: ((String) throws -> Data)? = nil) throws(DICOMError) -> Dataset {
        try decode(try JSONValue.parse(json), bulkData: bulkData)
    }

    public static func decode(_ value: JSONValue, bulkData: ((String) throws -> Data)? = nil) throws(DICOMError) -> Dataset {
        try decode(value, bulkData: bulkData, inherited: .default)
    }

    /// `inherited`: the character set of the enclosing data set, for sequence items.
    private static func decode(
        _ value: JSONValue, bulkData: ((String) throws -> Data)?, inherited: SpecificCharacterSet
    ) throws(DICOMError) -> Dataset {
        guard case .object(let attributes) = value else { throw DICOMError(.invalidValue, "a DICOM JSON data set must be an object") }
        var dataset = Dataset(characterSet: inherited)
        if case .object(let charset)? = attributes[Tag.specificCharacterSet.jsonKey], case .array(let terms)? = charset["Value"] {
            dataset.characterSet = SpecificCharacterSet(terms: terms.compactMap { if case .string(let s) = $0 { s } else { nil } })
        }
        for (key, attribute) in attributes {
            guard key.count == 8, let raw = UInt32(key, radix: 16) else { throw DICOMError(.invalidValue, "'\(key)' is not a tag") }
            let tag = Tag(rawValue: raw)
            guard case .object(let fields) = attribute, case .string(let vrText)? = fields["vr"], let vr = VR(vrText) else {
                throw DICOMError(.invalidValue, "attribute \(tag) has no valid vr", tag: tag)
            }
            let element = try decodeElement(tag, vr, fields, characterSet: dataset.characterSet, bulkData: bulkData)
            dataset[tag] = element
        }
        return dataset
    }

    private static func decodeElement(
        _ tag: Tag, _ vr: VR, _ fields: [String: JSONValue], characterSet: SpecificCharacterSet, bulkData: ((String) throws -> Data)?
    ) throws(DICOMError) -> DataElement {
        if case .string(let base64)? = fields["InlineBinary"] {
            guard let data = Data(base64Encoded: base64) else {
                throw DICOMError(.invalidValue, "InlineBinary is not base64", tag: tag, vr: vr)
            }
            return DataElement(tag: tag, vr: vr, value: .bytes(data))
        }
        if case .string(let uri)? = fields["BulkDataURI"] {
            var data = Data()
            if let bulkData {
                do { data = try bulkData(uri) } catch { throw DICOMError(.io, "cannot fetch \(uri): \(error)", tag: tag, vr: vr) }
            }
            return DataElement(tag: tag, vr: vr, value: .bytes(data))
        }
        let values: [JSONValue]
        switch fields["Value"] {
        case .array(let array)?: values = array
        case nil: values = []
        default: throw DICOMError(.invalidValue, "Value of \(tag) is not an array", tag: tag, vr: vr)
        }
        if vr == .SQ {
            var items = [Dataset]()
            for item in values {
                items.append(try decode(item, bulkData: bulkData, inherited: characterSet))
            }
            return DataElement(tag: tag, vr: .SQ, value: .sequence(items))
        }
        var bytes = Data()
        switch vr {
        case .US, .SS, .UL, .SL, .SV, .UV, .FL, .FD:
            for value in values {
                guard let number = value.doubleValue else {
                    throw DICOMError(.invalidValue, "\(tag) \(vr) value is not a number", tag: tag, vr: vr)
                }
                switch vr {
                case .US: bytes.append(Data(littleEndian: UInt16(clamping: Int64(number))))
                case .SS: bytes.append(Data(littleEndian: Int16(clamping: Int64(number))))
                case .UL: bytes.append(Data(littleEndian: UInt32(clamping: Int64(number))))
                case .SL: bytes.append(Data(littleEndian: Int32(clamping: Int64(number))))
                case .SV: bytes.append(Data(littleEndian: Int64(number)))
                case .UV: bytes.append(Data(littleEndian: UInt64(max(0, number))))
                case .FL: bytes.append(Data(littleEndian: Float(number).bitPattern))
                default: bytes.append(Data(littleEndian: number.bitPattern))
                }
            }
        case .AT:
            for value in values {
                guard case .string(let text) = value, let raw = UInt32(text, radix: 16) else {
                    throw DICOMError(.invalidValue, "\(tag) AT value is not a tag", tag: tag, vr: vr)
                }
                bytes.append(Data(littleEndian: UInt16(raw >> 16)))
                bytes.append(Data(littleEndian: UInt16(raw & 0xFFFF)))
            }
        default:
            var texts = [String]()
            for value in values {
                switch value {
                case .string(let text): texts.append(text)
                case .integer(let number): texts.append(String(number))
                case .number(let number):
                    texts.append(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
                case .object(let name) where vr == .PN:
                    var groups = ["Alphabetic", "Ideographic", "Phonetic"].map { key -> String in
                        if case .string(let group)? = name[key] { return group }
                        return ""
                    }
                    while groups.last == "" && groups.count > 1 { groups.removeLast() }
                    texts.append(groups.joined(separator: "="))
                case .null: texts.append("")
                default: throw DICOMError(.invalidValue, "\(tag) \(vr) has a value of the wrong type", tag: tag, vr: vr)
                }
            }
            let text = texts.joined(separator: "\\")
            guard let encoded = vr.usesCharacterSet ? characterSet.encode(text) : text.data(using: .utf8) else {
                throw DICOMError(.invalidValue, "\(tag) text does not fit the character set \(characterSet)", tag: tag, vr: vr)
            }
            bytes = encoded
        }
        return DataElement(tag: tag, vr: vr, value: .bytes(bytes))
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
