/// A MONAI `norm_name` / `norm` argument as MONAI takes it: a name
/// (`"instance"`, `"BATCH"`), or a name with its options (`["instance",
/// {"affine": true}]`, MONAI's tuple). Options that change inference are
/// honoured (`affine`, `eps`, `num_groups`); training-only ones are accepted
/// (`momentum`, `track_running_stats`: running statistics are used when the
/// weights hold them, as PyTorch does in evaluation) and not written back;
/// any other is refused by name.
public struct NormSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case instance, batch, group
    }

    public var kind: Kind
    /// MONAI's own default for the kind when nil: instance norm has no affine, batch and group norm have one.
    public var affine: Bool?
    public var epsilon: Float = 1e-5
    /// Group norm's `num_groups`.
    public var groups: Int?

    public init(_ kind: Kind, affine: Bool? = nil, epsilon: Float = 1e-5, groups: Int? = nil) {
        self.kind = kind
        self.affine = affine
        self.epsilon = epsilon
        self.groups = groups
    }

    /// Whether the layer has a weight and a bias.
    public var hasAffine: Bool { affine ?? (kind != .instance) }

    static let accepted: [Kind: Set<String>] = [
        .instance: ["affine", "eps", "momentum", "track_running_stats"],
        .batch: ["affine", "eps", "momentum", "track_running_stats"],
        .group: ["num_groups", "eps", "affine"],
    ]

    /// Parses MONAI's spelling; the error names what is not supported.
    public init(name: String, options: [String: JSONScalar] = [:]) throws(NeuralEngineError) {
        guard let kind = Kind(rawValue: name.lowercased()) else {
            throw NeuralEngineError(
                "norm \"\(name)\" is not supported; use \(Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        self.kind = kind
        let unknown = Set(options.keys).subtracting(Self.accepted[kind]!)
        guard unknown.isEmpty else {
            throw NeuralEngineError("\(kind.rawValue) norm option(s) \(unknown.sorted().joined(separator: ", ")) not supported")
        }
        if let value = options["affine"] {
            guard case .bool(let affine) = value else { throw NeuralEngineError("norm option affine must be true or false") }
            self.affine = affine
        }
        if let value = options["eps"] {
            guard case .number(let eps) = value, eps > 0 else { throw NeuralEngineError("norm option eps must be a positive number") }
            epsilon = Float(eps)
        }
        if let value = options["track_running_stats"] {
            guard case .bool = value else { throw NeuralEngineError("norm option track_running_stats must be true or false") }
        }
        if kind == .group {
            guard case .number(let count)? = options["num_groups"], count >= 1, count == count.rounded() else {
                throw NeuralEngineError("group norm needs num_groups, a positive integer")
            }
            groups = Int(count)
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

extension NormSpec: Codable {
    public init(from decoder: any Decoder) throws {
        let (name, options) = try MONAIArguments.decodeNamed(from: decoder, what: "norm")
        do {
            try self.init(name: name, options: options)
        } catch {
            throw DecodingError.dataCorruptedError(in: try decoder.singleValueContainer(), debugDescription: error.description)
        }
    }

    /// The options that change inference, from what was parsed (so a spec made in code writes back readable).
    public func encode(to encoder: any Encoder) throws {
        var options = [String: JSONScalar]()
        if let affine { options["affine"] = .bool(affine) }
        if epsilon != 1e-5 { options["eps"] = .number(Double(epsilon)) }
        if let groups { options["num_groups"] = .number(Double(groups)) }
        try MONAIArguments.encodeNamed(kind.rawValue, options: options, to: encoder)
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
