public import DICOM
public import Foundation

/// The identifier of a C-FIND, C-MOVE or C-GET request: the
/// Query/Retrieve Level and keys given by keyword (or tag in hex), each with
/// a value to match or empty to be returned (PS3.4 C.2.2.1). UTF-8 values
/// make the identifier declare ISO_IR 192.
public enum QueryIdentifier {
    public struct InvalidKey: Error, CustomStringConvertible {
        public let description: String
    }

    public static let levels = ["PATIENT", "STUDY", "SERIES", "IMAGE"]

    public static func make(level: String?, keys: [(key: String, value: String)]) throws(InvalidKey) -> Dataset {
        var dataset = Dataset()
        if let level {
            guard levels.contains(level.uppercased()) else {
                throw InvalidKey(description: "level '\(level)' is not one of \(levels.joined(separator: ", "))")
            }
            dataset[.queryRetrieveLevel] = .text(.queryRetrieveLevel, .CS, level.uppercased())
        }
        for (key, value) in keys {
            guard
                let entry = DataDictionary.entry(forKeyword: key)
                    ?? UInt32(key, radix: 16).flatMap({ DataDictionary.entry(for: Tag(rawValue: $0)) })
            else { throw InvalidKey(description: "'\(key)' is not a DICOM keyword or tag") }
            guard entry.vr != .SQ else { throw InvalidKey(description: "'\(key)' is a sequence: sequence matching is not supported") }
            dataset[entry.tag] = DataElement(tag: entry.tag, vr: entry.vr, value: .bytes(Data(value.utf8)))
        }
        if dataset.elements.contains(where: { element in element.bytes.contains { $0 >= 0x80 } }) {
            dataset[.specificCharacterSet] = .text(.specificCharacterSet, .CS, "ISO_IR 192")
        }
        guard dataset[.queryRetrieveLevel] != nil else {
            throw InvalidKey(description: "the identifier needs a level (PATIENT, STUDY, SERIES or IMAGE)")
        }
        return dataset
    }
}
