/// Reads Metis configuration files: one `key = value` per line, `#` comments,
/// values bare or in double quotes (a subset of TOML):
///
///     # /etc/metis/metis.conf
///     data = "/var/lib/metis"
///     port = 8080
///     inference_workers = 2
enum ConfigurationFile {
    struct Entry: Equatable {
        var key: String
        var value: String
        var line: Int
    }

    static func parse(_ text: String, name: String) throws(ConfigurationError) -> [Entry] {
        var entries = [Entry]()
        var seen = Set<String>()
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = stripComment(String(rawLine)).trimmingWhitespace()
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError("\(name):\(number): expected 'key = value', got '\(line)'")
            }
            let key = String(line[..<equals]).trimmingWhitespace()
            var value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ConfigurationError("\(name):\(number): bad key '\(key)'")
            }
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw ConfigurationError("\(name):\(number): unterminated string for '\(key)'")
                }
                value = String(value.dropFirst().dropLast())
            }
            guard seen.insert(key).inserted else {
                throw ConfigurationError("\(name):\(number): '\(key)' is set twice")
            }
            entries.append(Entry(key: key, value: value, line: number))
        }
        return entries
    }

    /// Drops a `#` comment that is not inside a quoted value.
    private static func stripComment(_ line: String) -> String {
        var inQuotes = false
        for index in line.indices {
            switch line[index] {
            case "\"": inQuotes.toggle()
            case "#" where !inQuotes: return String(line[..<index])
            default: continue
            }
        }
        return line
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let characters = drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        return String(characters.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
