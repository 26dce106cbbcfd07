public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The character repertoires of a data set's text values, from Specific
/// Character Set (0008,0005): every defined term of PS3.3 C.12.1.1.2 — the
/// single-byte sets (Latin-1 to -5 and -9, Greek, Cyrillic, Arabic, Hebrew,
/// Thai, Japanese katakana), UTF-8, GB18030 and GBK, and ISO 2022 code
/// extensions switched by escape sequences (Japanese IR 87 and IR 159, Korean
/// IR 149, Chinese IR 58) — decoded through glibc's iconv, fragment by
/// fragment as PS3.5 §6.1.2.5 says (a delimiter returns to the first set).
/// Text in a set Metis does not know keeps its bytes and decodes as
/// Latin-1, which loses nothing, with `isSupported` false so readers can warn.
public struct SpecificCharacterSet: Hashable, Sendable, CustomStringConvertible {
    /// The defined terms as found in the file, e.g. `["ISO_IR 100"]`.
    public let terms: [String]
    /// Whether every term maps to a decoder.
    public let isSupported: Bool
    private let repertoires: [Repertoire]

    /// One defined term: its iconv name and the escape sequence that designates it.
    struct Repertoire: Hashable, Sendable {
        var iconvName: String
        var escape: [UInt8]
        /// ISO-2022-JP decoders read the escape sequences themselves.
        var decodesEscapes = false
        /// May not be combined with code extensions (UTF-8, GB18030, GBK).
        var standAlone = false
    }

    private static let esc: UInt8 = 0x1B
    /// The default repertoire: ASCII, read as UTF-8 when the bytes are (a common non-conformance that loses nothing), else Latin-1.
    private static let ascii = Repertoire(iconvName: "ASCII", escape: [esc, 0x28, 0x42])

    /// Defined terms (with and without code extensions) and their repertoires.
    static let table: [String: Repertoire] = {
        var table: [String: Repertoire] = [:]
        let singleByte: [(Int, String, UInt8)] = [
            (100, "ISO-8859-1", 0x41), (101, "ISO-8859-2", 0x42), (109, "ISO-8859-3", 0x43), (110, "ISO-8859-4", 0x44),
            (126, "ISO-8859-7", 0x46), (127, "ISO-8859-6", 0x47), (138, "ISO-8859-8", 0x48), (144, "ISO-8859-5", 0x4C),
            (148, "ISO-8859-9", 0x4D), (166, "TIS-620", 0x54), (203, "ISO-8859-15", 0x62),
        ]
        for (number, name, final) in singleByte {
            let repertoire = Repertoire(iconvName: name, escape: [esc, 0x2D, final])
            table["ISO_IR \(number)"] = repertoire
            table["ISO 2022 IR \(number)"] = repertoire
        }
        for term in ["", "ISO_IR 6", "ISO 2022 IR 6"] { table[term] = ascii }
        let katakana = Repertoire(iconvName: "SHIFT_JIS", escape: [esc, 0x29, 0x49])
        table["ISO_IR 13"] = katakana
        table["ISO 2022 IR 13"] = katakana
        table["ISO 2022 IR 87"] = Repertoire(iconvName: "ISO-2022-JP", escape: [esc, 0x24, 0x42], decodesEscapes: true)
        table["ISO 2022 IR 159"] = Repertoire(iconvName: "ISO-2022-JP-2", escape: [esc, 0x24, 0x28, 0x44], decodesEscapes: true)
        table["ISO 2022 IR 149"] = Repertoire(iconvName: "EUC-KR", escape: [esc, 0x24, 0x29, 0x43])
        table["ISO 2022 IR 58"] = Repertoire(iconvName: "GB2312", escape: [esc, 0x24, 0x29, 0x41])
        table["ISO_IR 192"] = Repertoire(iconvName: "UTF-8", escape: [], standAlone: true)
        table["GB18030"] = Repertoire(iconvName: "GB18030", escape: [], standAlone: true)
        table["GBK"] = Repertoire(iconvName: "GBK", escape: [], standAlone: true)
        return table
    }()

    /// Escape sequences that switch to a repertoire whatever the defined terms: ASCII, and JIS X 0201 romaji.
    private static let alwaysKnownEscapes: [[UInt8]: Repertoire] = [
        [esc, 0x28, 0x42]: ascii, [esc, 0x28, 0x4A]: Repertoire(iconvName: "SHIFT_JIS", escape: [esc, 0x28, 0x4A]),
    ]

    public static let `default` = SpecificCharacterSet(terms: [])

    public init(terms: [String]) {
        let cleaned = terms.map { $0.trimmingCharacters(in: .whitespaces) }
        self.terms = cleaned
        let known = cleaned.map { Self.table[$0] }
        let first = known.first ?? Self.ascii
        // The first value may be empty (the default repertoire) before code extensions.
        repertoires = [first ?? Self.ascii] + known.dropFirst().compactMap { $0 }
        isSupported = known.allSatisfy { $0 != nil } && !(cleaned.count > 1 && known.contains { $0?.standAlone == true })
    }

    private var first: Repertoire { repertoires[0] }

    /// Decodes text bytes of a value of `vr`; bytes that do not decode in
    /// their repertoire decode as Latin-1 rather than being lost.
    public func decode(_ data: Data, vr: VR? = nil) -> String {
        let bytes = [UInt8](data)
        guard bytes.contains(Self.esc), repertoires.count > 1 || first.decodesEscapes else {
            return Self.convert(bytes[...], from: first)
        }
        let delimiters: Set<UInt8> =
            switch vr {
            case .PN?: [0x5E, 0x3D, 0x5C]
            case .LT?, .ST?, .UT?: [0x0D, 0x0A, 0x09, 0x0C]
            default: [0x5C, 0x0D, 0x0A, 0x09, 0x0C]
            }
        var text = ""
        var start = 0
        while start < bytes.count {
            var end = start + 1
            while end < bytes.count && bytes[end] != Self.esc { end += 1 }
            text += decodeFragment(bytes[start..<end], delimiters: delimiters)
            start = end
        }
        return text
    }

    /// One run of bytes: from an escape sequence to the next, or the leading run in the first repertoire.
    private func decodeFragment(_ fragment: ArraySlice<UInt8>, delimiters: Set<UInt8>) -> String {
        guard fragment.first == Self.esc else { return Self.convert(fragment, from: first) }
        let length =
            fragment.count >= 4 && fragment.dropFirst().starts(with: [0x24]) && [0x28, 0x29].contains(fragment.dropFirst(2).first!) ? 4 : 3
        let escape = Array(fragment.prefix(length))
        guard let repertoire = repertoires.first(where: { $0.escape == escape }) ?? Self.alwaysKnownEscapes[escape] else {
            return Self.convert(fragment, from: first)
        }
        if repertoire.decodesEscapes { return Self.convert(fragment, from: repertoire) }
        let body = fragment.dropFirst(length)
        guard let delimiter = body.firstIndex(where: { delimiters.contains($0) }) else { return Self.convert(body, from: repertoire) }
        return Self.convert(body[..<delimiter], from: repertoire) + Self.convert(body[delimiter...], from: first)
    }

    private static func convert(_ bytes: ArraySlice<UInt8>, from repertoire: Repertoire) -> String {
        if bytes.isEmpty { return "" }
        switch repertoire.iconvName {
        case "UTF-8", "ASCII": return String(validating: bytes, as: UTF8.self) ?? latin1(bytes)
        case "ISO-8859-1": return latin1(bytes)
        default:
            return Iconv.convert(Array(bytes), from: repertoire.iconvName, to: "UTF-8").flatMap { String(validating: $0, as: UTF8.self) }
                ?? latin1(bytes)
        }
    }

    /// Latin-1, which maps every byte to the code point of the same value: the decoding that loses nothing.
    private static func latin1(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// Encodes text for writing; nil when it does not fit the repertoires.
    /// The default repertoire writes UTF-8 (as Metis always has); ISO 2022
    /// Japanese sets are encoded with their escape sequences.
    public func encode(_ text: String) -> Data? {
        if text.unicodeScalars.allSatisfy({ $0.isASCII }) { return Data(text.utf8) }
        if (first.iconvName == "ASCII" && repertoires.count == 1) || first.iconvName == "UTF-8" { return Data(text.utf8) }
        for repertoire in repertoires where repertoire.iconvName != "ASCII" {
            guard let encoded = Iconv.convert(Array(text.utf8), from: "UTF-8", to: repertoire.iconvName) else { continue }
            let designated = repertoire == first || repertoire.decodesEscapes || repertoire.escape.isEmpty
            return Data(designated ? encoded : repertoire.escape + encoded)
        }
        return nil
    }

    public var description: String { terms.isEmpty ? "default repertoire" : terms.joined(separator: "\\") }
}

/// glibc's iconv, one conversion descriptor per call (descriptors are not thread-safe).
enum Iconv {
    static func convert(_ input: [UInt8], from source: String, to target: String) -> [UInt8]? {
        let descriptor = iconv_open(target, source)
        guard descriptor != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(descriptor) }
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        var input = input
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress)?.assumingMemoryBound(
                    to: CChar.self)
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress)?.assumingMemoryBound(
                    to: CChar.self)
                var inLeft = inBuffer.count, outLeft = outBuffer.count
                if iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft) == -1 || inLeft != 0 { return nil }
                // Flush a stateful encoder's return to its initial shift state.
                if iconv(descriptor, nil, nil, &outPointer, &outLeft) == -1 { return nil }
                return outBuffer.count - outLeft
            }
        }
        guard let produced else { return nil }
        return Array(output.prefix(produced))
    }
}
