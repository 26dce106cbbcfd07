public import Foundation

/// The character repertoire of a data set's text values, from Specific
/// Character Set (0008,0005): the default repertoire, ISO_IR 100 (Latin-1),
/// ISO_IR 192 (UTF-8), and the other single-byte sets Foundation can decode.
/// Text in a set it cannot decode keeps its bytes and decodes as Latin-1,
/// which loses nothing, with `isSupported` false so readers can warn.
public struct SpecificCharacterSet: Hashable, Sendable, CustomStringConvertible {
    /// The defined terms as found in the file, e.g. `["ISO_IR 100"]`.
    public let terms: [String]
    let encoding: String.Encoding
    /// Whether every term maps to a decoder.
    public let isSupported: Bool

    public static let `default` = SpecificCharacterSet(terms: [], encoding: .ascii, isSupported: true)

    private init(terms: [String], encoding: String.Encoding, isSupported: Bool) {
        self.terms = terms
        self.encoding = encoding
        self.isSupported = isSupported
    }

    public init(terms: [String]) {
        let cleaned = terms.map { $0.trimmingCharacters(in: .whitespaces) }
        let primary = cleaned.first { !$0.isEmpty } ?? ""
        let mapping: [String: String.Encoding] = [
            "": .ascii, "ISO_IR 6": .ascii, "ISO 2022 IR 6": .ascii,
            "ISO_IR 100": .isoLatin1, "ISO 2022 IR 100": .isoLatin1,
            "ISO_IR 101": .isoLatin2, "ISO 2022 IR 101": .isoLatin2,
            "ISO_IR 192": .utf8,
        ]
        if let encoding = mapping[primary] {
            self.init(terms: cleaned, encoding: encoding, isSupported: cleaned.count <= 1 || cleaned.dropFirst().allSatisfy { $0.isEmpty })
        } else {
            self.init(terms: cleaned, encoding: .isoLatin1, isSupported: false)
        }
    }

    /// Decodes text bytes; bytes outside the repertoire decode as Latin-1 rather than being lost.
    public func decode(_ data: Data) -> String {
        if encoding == .ascii || encoding == .utf8 {
            if let text = String(data: data, encoding: .utf8) { return text }
            return String(data: data, encoding: .isoLatin1) ?? ""
        }
        return String(data: data, encoding: encoding) ?? String(data: data, encoding: .isoLatin1) ?? ""
    }

    /// Encodes text for writing; nil when it does not fit the repertoire.
    public func encode(_ text: String) -> Data? {
        text.data(using: encoding == .ascii ? .utf8 : encoding)
    }

    public var description: String { terms.isEmpty ? "default repertoire" : terms.joined(separator: "\\") }
}
