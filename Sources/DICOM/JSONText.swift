/// Compact JSON text of a `JSONValue`, written directly (several times faster
/// than `JSONEncoder` on the enum): keys sorted, `/` unescaped, non-ASCII as
/// UTF-8, integral doubles without a fraction — the same text `JSONEncoder`
/// gives with `.sortedKeys` and `.withoutEscapingSlashes`.
extension JSONValue {
    public var jsonText: String {
        var text = ""
        write(to: &text)
        return text
    }

    /// Appends this value's JSON text to `text`.
    public func write(to text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .integer(let value): text += String(value)
        case .number(let value): Self.writeNumber(value, to: &text)
        case .string(let value): Self.writeString(value, to: &text)
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                value.write(to: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                Self.writeString(key, to: &text)
                text += ":"
                members[key]!.write(to: &text)
            }
            text += "}"
        }
    }

    private static func writeNumber(_ value: Double, to text: inout String) {
        guard value.isFinite else {
            writeString(value.description, to: &text)  // JSON has no NaN or infinity
            return
        }
        var description = value.description
        if description.hasSuffix(".0") { description.removeLast(2) }
        text += description
    }

    /// A JSON string literal, escaping only what JSON requires.
    public static func writeString(_ value: String, to text: inout String) {
        text += "\""
        var needsEscaping = false
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscaping = true
            break
        }
        guard needsEscaping else {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
