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
