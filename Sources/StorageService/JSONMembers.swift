/// Reads the top-level members of a JSON object as raw text, without
/// decoding the values: how the query copies attributes out of stored
/// metadata quickly. Expects well-formed JSON (Metis wrote it).
enum JSONMembers {
    /// The raw value text of each top-level member whose key `wanted` accepts.
    static func members(of json: String, where wanted: (String) -> Bool) -> [(key: String, value: Substring)] {
        let utf8 = json.utf8
        var members = [(key: String, value: Substring)]()
        var index = utf8.startIndex
        func skipWhitespace() {
            while index < utf8.endIndex, [0x20, 0x0A, 0x0D, 0x09].contains(utf8[index]) { index = utf8.index(after: index) }
        }
        /// Moves past a string starting at `index` (on its opening quote).
        func skipString() {
            index = utf8.index(after: index)
            while index < utf8.endIndex {
                let byte = utf8[index]
                index = utf8.index(after: index)
                if byte == 0x5C, index < utf8.endIndex { index = utf8.index(after: index) } else if byte == 0x22 { return }
            }
        }
        /// Moves past one value of any kind.
        func skipValue() {
            var depth = 0
            repeat {
                guard index < utf8.endIndex else { return }
                switch utf8[index] {
                case 0x22: skipString(); continue
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D: depth -= 1
                case 0x2C where depth == 0: return
                default: break
                }
                index = utf8.index(after: index)
            } while depth > 0 || (index < utf8.endIndex && ![0x2C, 0x7D].contains(utf8[index]))
        }
        skipWhitespace()
        guard index < utf8.endIndex, utf8[index] == 0x7B else { return [] }
        index = utf8.index(after: index)
        while true {
            skipWhitespace()
            guard index < utf8.endIndex, utf8[index] == 0x22 else { return members }
            let keyStart = utf8.index(after: index)
            skipString()
            let key = String(json[keyStart..<utf8.index(before: index)])
            skipWhitespace()
            guard index < utf8.endIndex, utf8[index] == 0x3A else { return members }
            index = utf8.index(after: index)
            skipWhitespace()
            let valueStart = index
            skipValue()
            if wanted(key) { members.append((key, json[valueStart..<index])) }
            skipWhitespace()
            guard index < utf8.endIndex, utf8[index] == 0x2C else { return members }
            index = utf8.index(after: index)
        }
    }
}
