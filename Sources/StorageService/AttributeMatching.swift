import DICOM
import Foundation

/// DICOM attribute matching (PS3.4 C.2.2.2) turned into SQL conditions on
/// index columns: single value, `*`/`?` wildcards, UID lists, date and time
/// ranges, case-insensitive person names.
enum AttributeMatching {
    enum Kind: Sendable {
        case text, personName, uid, date, time, integer
        /// A backslash-separated list column that matches when it contains the value.
        case codeList
    }

    /// A searchable attribute: its tag, VR, index column and matching kind.
    struct Attribute: Sendable {
        let keyword: String
        let tag: Tag
        let vr: VR
        /// The column returned in results.
        let column: String
        let kind: Kind
        /// The column matched against, when not `column` (person names match a case-folded copy).
        var matchColumn: String? = nil
    }

    /// A SQL condition with its arguments.
    struct Condition: Sendable {
        let sql: String
        let arguments: [String]
    }

    static func condition(for attribute: Attribute, matching value: String) throws(StorageError) -> Condition? {
        let value = value.trimmingCharacters(in: .whitespaces)
        if value.isEmpty || value == "*" { return nil }  // universal matching
        let column = attribute.matchColumn ?? attribute.column
        switch attribute.kind {
        case .uid:
            let uids = value.split(separator: "\\").map(String.init)
            guard uids.allSatisfy(UID.isValid) else { throw .invalid("\(attribute.keyword) '\(value)' is not a UID list") }
            return Condition(sql: "\(column) IN (\(Array(repeating: "?", count: uids.count).joined(separator: ", ")))", arguments: uids)
        case .date, .time:
            let pattern = attribute.kind == .date ? #"^\d{8}$"# : #"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$"#
            func valid(_ text: Substring) -> Bool { text.isEmpty || text.wholeMatch(of: try! Regex(pattern)) != nil }
            if let dash = value.firstIndex(of: "-") {
                let low = value[..<dash], high = value[value.index(after: dash)...]
                guard valid(low), valid(high), !(low.isEmpty && high.isEmpty) else {
                    throw .invalid("\(attribute.keyword) range '\(value)' is not valid")
                }
                var parts = [String](), arguments = [String]()
                if !low.isEmpty { parts.append("\(column) >= ?"); arguments.append(String(low)) }
                // An upper time bound includes its whole last unit: 10 matches up to 10:59:59.
                if !high.isEmpty {
                    parts.append("\(column) <= ?"); arguments.append(String(high) + (attribute.kind == .time ? "\u{FFFF}" : ""))
                }
                return Condition(sql: "(" + parts.joined(separator: " AND ") + ")", arguments: arguments)
            }
            guard valid(value[...]) else {
                throw .invalid("\(attribute.keyword) '\(value)' is not a valid \(attribute.kind == .date ? "date" : "time")")
            }
            return attribute.kind == .date
                ? Condition(sql: "\(column) = ?", arguments: [value])
                : Condition(sql: "\(column) GLOB ?", arguments: [value + "*"])
        case .integer:
            guard let number = Int(value) else { throw .invalid("\(attribute.keyword) '\(value)' is not an integer") }
            return Condition(sql: "\(column) = ?", arguments: [String(number)])
        case .codeList:
            guard !value.contains("*"), !value.contains("?") else {
                return Condition(sql: "\(column) GLOB ?", arguments: ["*" + value + "*"])
            }
            return Condition(
                sql: "('\\\\' || \(column) || '\\\\') GLOB ?", arguments: ["*\\" + Self.escapedForGlob(value) + "\\*"])
        case .text, .personName:
            // Person names match case-insensitively: their column holds the Unicode-lowercased name.
            let target = column
            let argument = attribute.kind == .personName ? value.lowercased() : value
            if attribute.kind == .personName && !value.contains("=") {
                // A key of one component group also matches the name's ideographic or phonetic group
                // (山田* finds Yamada^Tarou=山田^太郎), as dcm4chee does.
                let group = "*=" + Self.escapedForGlob(argument, keepingWildcards: true) + "=*"
                if value.contains("*") || value.contains("?") {
                    return Condition(
                        sql: "(\(target) GLOB ? OR ('=' || \(target) || '=') GLOB ?)",
                        arguments: [Self.escapedForGlob(argument, keepingWildcards: true), group])
                }
                return Condition(sql: "(\(target) = ? OR ('=' || \(target) || '=') GLOB ?)", arguments: [argument, group])
            }
            if value.contains("*") || value.contains("?") {
                // DICOM wildcards are GLOB's; other GLOB specials are escaped.
                return Condition(sql: "\(target) GLOB ?", arguments: [Self.escapedForGlob(argument, keepingWildcards: true)])
            }
            return Condition(sql: "\(target) = ?", arguments: [argument])
        }
    }

    /// Escapes GLOB's `[` (and, unless kept, `*` and `?`) so they match themselves.
    static func escapedForGlob(_ text: String, keepingWildcards: Bool = false) -> String {
        var result = ""
        for character in text {
            switch character {
            case "[": result += "[[]"
            case "*" where !keepingWildcards: result += "[*]"
            case "?" where !keepingWildcards: result += "[?]"
            default: result.append(character)
            }
        }
        return result
    }
}
