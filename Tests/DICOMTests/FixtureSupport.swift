import Foundation
import Testing

@testable import DICOM

/// The committed fixtures (made by deploy/dicom/make-fixtures.py) and what pydicom read from them.
enum Fixtures {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static let readable = [
        "explicit-le.dcm", "implicit-le.dcm", "explicit-be.dcm", "deflated.dcm", "utf8.dcm", "multiframe-8bit.dcm",
        "signed-16bit.dcm", "undefined-length-sequences.dcm", "rle.dcm", "no-preamble.dcm",
    ]

    /// One row per element: path (`GGGGEEEE`, `GGGGEEEE/i/GGGGEEEE`...), VR, value.
    struct Row: Equatable, CustomStringConvertible {
        enum Value: Equatable {
            case none
            case texts([String])
            case length(Int)
        }
        var path: String
        var vr: String
        var value: Value

        var description: String { "\(path) \(vr) \(value)" }
    }

    static func expectedRows(_ name: String) throws -> [Row] {
        try rows(fromJSON: Data(contentsOf: url(name + ".expected.json")))
    }

    /// Rows from the JSON listing make-fixtures.py (or `Pydicom.rows`) prints.
    static func rows(fromJSON data: Data) throws -> [Row] {
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
        return rows.map { row in
            let value: Row.Value
            if let texts = row[2] as? [String] {
                value = .texts(texts)
            } else if let binary = row[2] as? [String: Int] {
                value = .length(binary["length"] ?? -1)
            } else {
                value = .none
            }
            return Row(path: row[0] as! String, vr: row[1] as! String, value: value)
        }
    }

    /// The same rows from a data set read by Metis, values formatted as pydicom prints them.
    static func rows(of dataset: Dataset, prefix: String = "") -> [Row] {
        var rows = [Row]()
        for element in dataset.elements {
            let path = prefix + element.tag.jsonKey
            switch element.value {
            case .sequence(let items):
                rows.append(Row(path: path, vr: "SQ", value: .none))
                for (index, item) in items.enumerated() { rows += Self.rows(of: item, prefix: "\(path)/\(index)/") }
            case .encapsulated(let pixels):
                // pydicom reports the encoded items' length, without the sequence delimiter.
                let length = 8 + pixels.basicOffsetTable.count + pixels.fragments.reduce(0) { $0 + 8 + $1.count }
                rows.append(Row(path: path, vr: element.vr.description, value: .length(length)))
            case .bytes(let data):
                rows.append(Row(path: path, vr: element.vr.description, value: format(element, data, in: dataset)))
            }
        }
        return rows
    }

    private static func format(_ element: DataElement, _ data: Data, in dataset: Dataset) -> Row.Value {
        let vr = element.vr
        if vr.isText {
            let values = dataset.strings(element.tag) ?? []
            return .texts(values == [""] ? [] : values)
        }
        switch vr {
        case .AT:
            // pydicom prints tags as (GGGG,EEEE).
            let words = data.littleEndianArray(of: UInt16.self)
            return .texts(stride(from: 0, to: words.count - 1, by: 2).map { Tag(words[$0], words[$0 + 1]).description })
        case .US, .SS, .UL, .SL, .FL, .FD, .SV, .UV:
            let numbers = dataset.numbers(element.tag) ?? []
            return .texts(numbers.map { $0 == $0.rounded() && vr != .FL && vr != .FD ? String(Int($0)) : String($0) })
        default:
            return .length(data.count)
        }
    }
}
