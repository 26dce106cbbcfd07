/// How MONAI's constructors take their arguments, shared by the architectures.
public enum MONAIArguments {
    /// Refuses keys outside `known` (and `name`, the class), naming them.
    static func refuseUnknown(in decoder: any Decoder, known: [String], network: String) throws {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let all = try decoder.container(keyedBy: AnyKey.self)
        let unknown = all.allKeys.map(\.stringValue).filter { $0 != "name" && !known.contains($0) }.sorted()
        if let name = try all.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "name")), name != network {
            throw DecodingError.dataCorruptedError(
                forKey: AnyKey(stringValue: "name"), in: all, debugDescription: "name \"\(name)\" is not \(network)")
        }
        guard unknown.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: AnyKey(stringValue: unknown[0]), in: all,
                debugDescription: "\(network) argument(s) \(unknown.joined(separator: ", ")) not supported by Metis (or not MONAI's)")
        }
    }

    /// An int (the same along every axis) or one size per axis, as MONAI's `ensure_tuple_rep`.
    static func sizes<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key, dimensions: Int) throws -> [Int] {
        if let size = try? container.decode(Int.self, forKey: key) { return Array(repeating: size, count: dimensions) }
        let sizes = try container.decode([Int].self, forKey: key)
        guard sizes.count == dimensions else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(key.stringValue) needs one size per axis (\(dimensions)), got \(sizes)")
        }
        return sizes
    }
}

extension MONAIArguments {
    /// A decoding error in words: the path to the field and what is wrong with it.
    public static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? context.debugDescription : "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context)?:
            return "\(path(context.codingPath + [key])) is required"
        case .typeMismatch(let type, let context)?, .valueNotFound(let type, let context)?:
            return "\(path(context.codingPath)) must be \(type)"
        default:
            return "\(error)"
        }
    }
}

extension MONAIArguments {
    /// MONAI's `name` or `(name, {options})` argument, as JSON: a string or `[name, {options}]`.
    static func decodeNamed(from decoder: any Decoder, what: String) throws -> (name: String, options: [String: JSONScalar]) {
        if let name = try? decoder.singleValueContainer().decode(String.self) { return (name, [:]) }
        var tuple = try decoder.unkeyedContainer()
        let name = try tuple.decode(String.self)
        let options = tuple.isAtEnd ? [:] : try tuple.decode([String: JSONScalar].self)
        guard tuple.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: tuple, debugDescription: "a \(what) is a name or [name, {options}]")
        }
        return (name, options)
    }

    /// Writes a name bare without options, else `[name, {options}]`.
    static func encodeNamed(_ name: String, options: [String: JSONScalar], to encoder: any Encoder) throws {
        if options.isEmpty {
            var container = encoder.singleValueContainer()
            try container.encode(name)
        } else {
            var tuple = encoder.unkeyedContainer()
            try tuple.encode(name)
            try tuple.encode(options)
        }
    }
}

/// A JSON number, string, boolean or null: the values MONAI's keyword arguments take.
public enum JSONScalar: Sendable, Equatable, Codable {
    case bool(Bool), number(Double), string(String), null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number, string, boolean or null")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}
