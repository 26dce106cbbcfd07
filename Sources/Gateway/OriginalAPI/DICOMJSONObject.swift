import Foundation

/// Reads values out of one DICOM JSON object (a QIDO match).
struct DICOMJSONObject: Decodable, Sendable {
    private struct Attribute: Decodable {
        var vr: String?
        var Value: [Value]?
    }

    private enum Value: Decodable {
        case text(String)
        case number(Double)
        case name(String)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let name = try? container.decode([String: String].self) {
                self = .name(name["Alphabetic"] ?? name.values.first ?? "")
            } else {
                self = .other
            }
        }
    }

    private let attributes: [String: Attribute]

    init(from decoder: any Decoder) throws {
        attributes = try decoder.singleValueContainer().decode([String: Attribute].self)
    }

    init(json: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
    }

    /// The first value as text (a person name's alphabetic group; numbers without a needless ".0").
    func string(_ tag: String) -> String? {
        values(tag).first
    }

    /// Every value as text.
    func values(_ tag: String) -> [String] {
        (attributes[tag]?.Value ?? []).compactMap { value in
            switch value {
            case .text(let text), .name(let text): return text
            case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .other: return nil
            }
        }
    }

    func int(_ tag: String) -> Int? { string(tag).flatMap { Int($0) } }
}
