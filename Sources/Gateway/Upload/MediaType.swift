import Foundation

/// A media type with its parameters, as in Content-Type and Accept
/// (`multipart/related; type="application/dicom"; boundary=x`).
struct MediaType: Sendable, Equatable {
    /// Lowercased `type/subtype`.
    var essence: String
    /// Parameter names lowercased; values unquoted.
    var parameters: [String: String]

    init(essence: String, parameters: [String: String] = [:]) {
        self.essence = essence.lowercased()
        self.parameters = parameters
    }

    /// Parses one media type; nil when it has no `type/subtype`.
    init?(_ text: some StringProtocol) {
        let pieces = Self.split(String(text), on: ";")
        let essence = pieces.first?.trimmingWhitespace().lowercased() ?? ""
        guard essence.split(separator: "/").count == 2 else { return nil }
        self.essence = essence
        var parameters = [String: String]()
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingWhitespace().lowercased()
            var value = piece[piece.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            parameters[name] = value
        }
        self.parameters = parameters
    }

    /// The media ranges of an Accept header, best quality first (stable for ties);
    /// ranges with q=0 are left out.
    static func acceptList(_ header: String?) -> [MediaType] {
        guard let header, !header.trimmingWhitespace().isEmpty else { return [] }
        let ranges: [MediaType] = split(header, on: ",").compactMap { MediaType($0) }
        var weighted = [(index: Int, range: MediaType, quality: Double)]()
        for (index, range) in ranges.enumerated() {
            let quality = Double(range.parameters["q"] ?? "1") ?? 1
            if quality > 0 { weighted.append((index, range, quality)) }
        }
        weighted.sort { $0.quality != $1.quality ? $0.quality > $1.quality : $0.index < $1.index }
        return weighted.map(\.range)
    }

    /// Whether this range (which may hold `*`) accepts `essence`.
    func accepts(_ essence: String) -> Bool {
        if self.essence == "*/*" { return true }
        let mine = self.essence.split(separator: "/"), theirs = essence.lowercased().split(separator: "/")
        return mine[0] == theirs[0] && (mine[1] == "*" || mine[1] == theirs[1])
    }

    /// Splits on `separator` outside double quotes.
    private static func split(_ text: String, on separator: Character) -> [Substring] {
        var pieces = [Substring]()
        var start = text.startIndex
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { quoted.toggle() }
            if character == separator && !quoted {
                pieces.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        pieces.append(text[start...])
        return pieces
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
