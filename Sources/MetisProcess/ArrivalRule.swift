import Foundation

/// What Metis does with a series once it is complete (`arrival_rules`): when
/// its conditions match, its actions run in order. Written
/// `CONDITIONS -> ACTIONS`, rules separated by `;`, e.g.
/// `modality=MR calling_ae=MRI1 -> segment send=PLAN; modality=CT -> forward=ARCHIVE`.
///
/// Conditions (all must hold; `any` for none): `modality`, `description`
/// (Series Description), `calling_ae` (the AE that sent it over DICOM) and
/// `origin` (`dimse`, `stow`, `upload`, `import`), each `key=pattern` with
/// DICOM wildcards `*` and `?`, case-insensitive; a pattern with spaces goes
/// in double quotes. Actions: `segment` or `segment=ENGINE` (the segmentation
/// workflow, follow-up included), `send=AE` (the result, after `segment`), and
/// `forward=AE` (the series itself); the AEs are peers with the `store` service.
public struct ArrivalRule: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Key: String, Sendable, Codable, CaseIterable {
        case modality, description
        case callingAE = "calling_ae"
        case origin
    }

    public struct Condition: Sendable, Equatable, Codable {
        public var key: Key
        public var pattern: String
    }

    public enum Action: Sendable, Equatable, Codable, CustomStringConvertible {
        /// Segment with an engine (empty: the site's default).
        case segment(engine: String)
        /// Send the segmentation result to a peer.
        case send(aeTitle: String)
        /// Send the series as received to a peer.
        case forward(aeTitle: String)

        public var description: String {
            switch self {
            case .segment(let engine): engine.isEmpty ? "segment" : "segment=\(engine)"
            case .send(let aeTitle): "send=\(aeTitle)"
            case .forward(let aeTitle): "forward=\(aeTitle)"
            }
        }
    }

    public var conditions: [Condition]
    public var actions: [Action]

    public init(conditions: [Condition], actions: [Action]) {
        self.conditions = conditions
        self.actions = actions
    }

    /// The rule as `arrival_rules` writes it.
    public var description: String {
        let matched =
            conditions.isEmpty
            ? "any"
            : conditions.map { condition in
                let quoted = condition.pattern.contains(where: \.isWhitespace) || condition.pattern.isEmpty
                return "\(condition.key.rawValue)=" + (quoted ? "\"\(condition.pattern)\"" : condition.pattern)
            }.joined(separator: " ")
        return matched + " -> " + actions.map(\.description).joined(separator: " ")
    }

    /// What a rule is matched against: a completed series and how it came.
    public struct Arrival: Sendable {
        public var modality: String
        public var seriesDescription: String
        /// The calling AE title over DICOM; empty otherwise.
        public var callingAETitle: String
        /// `dimse`, `stow`, `upload` or `import`.
        public var origin: String

        public init(modality: String, seriesDescription: String, callingAETitle: String, origin: String) {
            self.modality = modality
            self.seriesDescription = seriesDescription
            self.callingAETitle = callingAETitle
            self.origin = origin
        }
    }

    public func matches(_ arrival: Arrival) -> Bool {
        conditions.allSatisfy { condition in
            let value =
                switch condition.key {
                case .modality: arrival.modality
                case .description: arrival.seriesDescription
                case .callingAE: arrival.callingAETitle
                case .origin: arrival.origin
                }
            return Self.wildcard(condition.pattern, matches: value.trimmingCharacters(in: .whitespaces))
        }
    }

    /// DICOM wildcard matching (`*` any run, `?` one character), case-insensitive.
    static func wildcard(_ pattern: String, matches value: String) -> Bool {
        let pattern = Array(pattern.lowercased()), value = Array(value.lowercased())
        var p = 0, v = 0, star: Int?, resume = 0
        while v < value.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == value[v] {
                p += 1
                v += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = v
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                v = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    static let origins = ["dimse", "stow", "upload", "import"]

    /// Parses `arrival_rules`: rules separated by `;`.
    public static func parseList(_ text: String) throws(ConfigurationError) -> [ArrivalRule] {
        var rules = [ArrivalRule]()
        for entry in try split(text, on: ";") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            rules.append(try parse(entry))
        }
        return rules
    }

    /// Parses one `CONDITIONS -> ACTIONS` rule.
    public static func parse(_ text: String) throws(ConfigurationError) -> ArrivalRule {
        let example = "e.g. 'modality=MR calling_ae=MRI1 -> segment send=PLAN'"
        guard let arrow = text.range(of: "->") else {
            throw ConfigurationError("arrival rule '\(text)' has no '->' between its conditions and its actions (\(example))")
        }
        var conditions = [Condition]()
        for word in try split(String(text[..<arrow.lowerBound]), on: " ") where !word.isEmpty {
            if word.lowercased() == "any" { continue }
            let (name, pattern) = try pair(word, in: text)
            guard let key = Key(rawValue: name.lowercased()) else {
                throw ConfigurationError(
                    "arrival rule '\(text)': unknown condition '\(name)' (\(Key.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let pattern, !pattern.isEmpty else { throw ConfigurationError("arrival rule '\(text)': \(name) needs a pattern") }
            if key == .origin, !origins.contains(pattern.lowercased()) {
                throw ConfigurationError("arrival rule '\(text)': origin is one of \(origins.joined(separator: ", ")), not '\(pattern)'")
            }
            conditions.append(Condition(key: key, pattern: pattern))
        }
        var actions = [Action]()
        for word in try split(String(text[arrow.upperBound...]), on: " ") where !word.isEmpty {
            let (name, value) = try pair(word, in: text)
            switch name.lowercased() {
            case "segment":
                if let value, !MetisConfiguration.engineNames.contains(value.lowercased()) {
                    throw ConfigurationError(
                        "arrival rule '\(text)': segment's engine is one of \(MetisConfiguration.engineNames.joined(separator: ", ")), not '\(value)'"
                    )
                }
                actions.append(.segment(engine: value?.lowercased() ?? ""))
            case "send", "forward":
                guard let value, !value.isEmpty else {
                    throw ConfigurationError("arrival rule '\(text)': \(name) needs an AE title (\(name)=AE)")
                }
                try DICOMPeer.validateAETitle(value, in: text)
                guard name.lowercased() == "forward" || actions.contains(where: { if case .segment = $0 { true } else { false } }) else {
                    throw ConfigurationError("arrival rule '\(text)': send=\(value) sends the segmentation result: put segment before it")
                }
                actions.append(name.lowercased() == "send" ? .send(aeTitle: value) : .forward(aeTitle: value))
            default:
                throw ConfigurationError("arrival rule '\(text)': unknown action '\(name)' (segment, send=AE, forward=AE)")
            }
        }
        guard !actions.isEmpty else { throw ConfigurationError("arrival rule '\(text)' has no action (\(example))") }
        return ArrivalRule(conditions: conditions, actions: actions)
    }

    private static func pair(_ word: String, in text: String) throws(ConfigurationError) -> (String, String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        var value = String(word[word.index(after: equals)...])
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return (String(word[..<equals]), value)
    }

    /// Splits on `separator` outside double quotes; an unclosed quote is an error.
    private static func split(_ text: String, on separator: Character) throws(ConfigurationError) -> [String] {
        var parts = [String](), current = "", quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if !quoted, character == separator || (separator == " " && character.isWhitespace) {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw ConfigurationError("arrival rules: unclosed quote in '\(text)'") }
        parts.append(current)
        return parts
    }
}
