/// MONAI 1.6's `SegResNet(...)` keyword arguments, read as MONAI takes them:
/// every argument optional with MONAI's default, `norm` and `act` a name or
/// `[name, {options}]`, the deprecated `norm_name` + `num_groups` spelling
/// too. What Metis cannot honour is refused by name.
public struct SegResNetConfiguration: Sendable, Equatable {
    public var spatial_dims = 3
    public var init_filters = 8
    public var in_channels = 1
    public var out_channels = 2
    /// Dropout is inactive in evaluation; kept to write the card back.
    public var dropout_prob: Double?
    public var act = ActivationSpec(.relu)
    public var norm = NormSpec(.group, groups: 8)
    public var use_conv_final = true
    public var blocks_down = [1, 2, 2, 4]
    public var blocks_up = [1, 1, 1]
    /// "nontrainable" (trilinear, align_corners false) or "deconv".
    public var upsample_mode = "nontrainable"

    public init() {}
}

/// A MONAI `act` argument: `"RELU"`, `["LEAKYRELU", {"negative_slope": 0.1}]`.
public struct ActivationSpec: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable { case relu, leakyrelu }
    public var kind: Kind
    /// LeakyReLU's `negative_slope` (PyTorch's default 0.01); 0 for ReLU.
    public var slope: Float

    public init(_ kind: Kind, slope: Float? = nil) {
        self.kind = kind
        self.slope = slope ?? (kind == .relu ? 0 : 0.01)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let (name, options) = try MONAIArguments.decodeNamed(from: decoder, what: "act")
        guard let kind = Kind(rawValue: name.lowercased()) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "act \"\(name)\" is not supported; use \"relu\" or \"leakyrelu\"")
        }
        let unknown = Set(options.keys).subtracting(kind == .relu ? ["inplace"] : ["inplace", "negative_slope"])
        guard unknown.isEmpty else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(kind.rawValue) option(s) \(unknown.sorted().joined(separator: ", ")) not supported")
        }
        var slope: Float?
        if let value = options["negative_slope"] {
            guard case .number(let number) = value else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "negative_slope must be a number")
            }
            slope = Float(number)
        }
        self.init(kind, slope: slope)
    }

    public func encode(to encoder: any Encoder) throws {
        let options: [String: JSONScalar] = kind == .leakyrelu && slope != 0.01 ? ["negative_slope": .number(Double(slope))] : [:]
        try MONAIArguments.encodeNamed(kind.rawValue, options: options, to: encoder)
    }
}

extension SegResNetConfiguration: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case spatial_dims, init_filters, in_channels, out_channels, dropout_prob, act, norm, norm_name, num_groups, use_conv_final,
            blocks_down, blocks_up, upsample_mode
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try MONAIArguments.refuseUnknown(in: decoder, known: CodingKeys.allCases.map(\.rawValue), network: "SegResNet")
        spatial_dims = try container.decodeIfPresent(Int.self, forKey: .spatial_dims) ?? 3
        guard spatial_dims == 3 else {
            throw DecodingError.dataCorruptedError(
                forKey: .spatial_dims, in: container,
                debugDescription: "spatial_dims \(spatial_dims) is not supported: Metis runs 3-D networks")
        }
        init_filters = try container.decodeIfPresent(Int.self, forKey: .init_filters) ?? 8
        in_channels = try container.decodeIfPresent(Int.self, forKey: .in_channels) ?? 1
        out_channels = try container.decodeIfPresent(Int.self, forKey: .out_channels) ?? 2
        dropout_prob = try container.decodeIfPresent(Double.self, forKey: .dropout_prob)
        act = try container.decodeIfPresent(ActivationSpec.self, forKey: .act) ?? ActivationSpec(.relu)
        norm = try container.decodeIfPresent(NormSpec.self, forKey: .norm) ?? NormSpec(.group, groups: 8)
        // MONAI's deprecated spelling: norm_name "group" with num_groups replaces norm.
        if let name = try container.decodeIfPresent(String.self, forKey: .norm_name), !name.isEmpty {
            guard name.lowercased() == "group" else {
                throw DecodingError.dataCorruptedError(
                    forKey: .norm_name, in: container, debugDescription: "norm_name \"\(name)\" is deprecated by MONAI; use norm")
            }
            norm = try NormSpec(
                name: "group", options: ["num_groups": .number(Double(try container.decodeIfPresent(Int.self, forKey: .num_groups) ?? 8))])
        }
        use_conv_final = try container.decodeIfPresent(Bool.self, forKey: .use_conv_final) ?? true
        blocks_down = try container.decodeIfPresent([Int].self, forKey: .blocks_down) ?? [1, 2, 2, 4]
        blocks_up = try container.decodeIfPresent([Int].self, forKey: .blocks_up) ?? [1, 1, 1]
        guard !blocks_down.isEmpty, blocks_up.count < blocks_down.count, (blocks_down + blocks_up).allSatisfy({ $0 >= 0 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .blocks_up, in: container, debugDescription: "blocks_up must be shorter than blocks_down, all counts ≥ 0")
        }
        upsample_mode = try container.decodeIfPresent(String.self, forKey: .upsample_mode) ?? "nontrainable"
        guard ["nontrainable", "deconv"].contains(upsample_mode) else {
            throw DecodingError.dataCorruptedError(
                forKey: .upsample_mode, in: container,
                debugDescription: "upsample_mode \"\(upsample_mode)\" is not supported; use \"nontrainable\" or \"deconv\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(spatial_dims, forKey: .spatial_dims)
        try container.encode(init_filters, forKey: .init_filters)
        try container.encode(in_channels, forKey: .in_channels)
        try container.encode(out_channels, forKey: .out_channels)
        try container.encodeIfPresent(dropout_prob, forKey: .dropout_prob)
        try container.encode(act, forKey: .act)
        try container.encode(norm, forKey: .norm)
        try container.encode(use_conv_final, forKey: .use_conv_final)
        try container.encode(blocks_down, forKey: .blocks_down)
        try container.encode(blocks_up, forKey: .blocks_up)
        try container.encode(upsample_mode, forKey: .upsample_mode)
    }
}

/// MONAI's `SegResNet` (Myronenko 2018, the BraTS bundles' network): an
/// initial convolution, down levels of pre-activation residual blocks (norm →
/// act → conv, twice, plus the input) each after a stride-2 convolution, up
/// levels of a 1×1×1 convolution, a ×2 up-sampling and the skip added, then
/// norm → act → 1×1×1 convolution. Convolutions carry no bias but the last.
public struct SegResNet: Sendable {
    public let configuration: SegResNetConfiguration

    struct ResBlock: Sendable {
        let norm1: BlockNorm, conv1: Conv3d, norm2: BlockNorm, conv2: Conv3d
    }

    enum Upsampling: Sendable {
        case trilinear
        case transposed(ConvTranspose3d)
    }

    let initial: Conv3d
    let down: [(Conv3d?, [ResBlock])]
    let up: [(Conv3d, Upsampling, [ResBlock])]
    let final: (BlockNorm, Conv3d)?

    /// Builds the network from MONAI's state dict keys; missing, mis-shaped or unused keys are an error listing them.
    public init(configuration: SegResNetConfiguration, state: StateDict) throws(NeuralEngineError) {
        var state = state
        self.configuration = configuration
        let filters = configuration.init_filters, norm = configuration.norm
        func conv(_ key: String, _ outputs: Int, _ inputs: Int, kernel: Int = 3, stride: Int = 1, bias: Bool = false)
            throws(NeuralEngineError) -> Conv3d
        {
            Conv3d(
                weight: try state.require("\(key).conv.weight", shape: [outputs, inputs, kernel, kernel, kernel]),
                bias: bias ? try state.require("\(key).conv.bias", shape: [outputs]) : nil, stride: stride, padding: kernel / 2)
        }
        func blocks(_ prefix: String, first: Int, count: Int, channels: Int) throws(NeuralEngineError) -> [ResBlock] {
            var blocks = [ResBlock]()
            for index in first..<(first + count) {
                let key = "\(prefix).\(index)"
                blocks.append(
                    ResBlock(
                        norm1: try BlockNorm.load("\(key).norm1", spec: norm, channels: channels, from: &state),
                        conv1: try conv("\(key).conv1", channels, channels),
                        norm2: try BlockNorm.load("\(key).norm2", spec: norm, channels: channels, from: &state),
                        conv2: try conv("\(key).conv2", channels, channels)))
            }
            return blocks
        }
        initial = try conv("convInit", filters, configuration.in_channels)
        var down = [(Conv3d?, [ResBlock])]()
        for (level, count) in configuration.blocks_down.enumerated() {
            let channels = filters << level
            let pre = level > 0 ? try conv("down_layers.\(level).0", channels, channels / 2, stride: 2) : nil
            down.append((pre, try blocks("down_layers.\(level)", first: 1, count: count, channels: channels)))
        }
        self.down = down
        var up = [(Conv3d, Upsampling, [ResBlock])]()
        let levels = configuration.blocks_up.count
        for (level, count) in configuration.blocks_up.enumerated() {
            let channels = filters << (levels - level)
            let reduce = try conv("up_samples.\(level).0", channels / 2, channels, kernel: 1)
            let upsampling: Upsampling
            if configuration.upsample_mode == "deconv" {
                upsampling = .transposed(
                    ConvTranspose3d(
                        weight: try state.require("up_samples.\(level).1.deconv.weight", shape: [channels / 2, channels / 2, 2, 2, 2]),
                        bias: try state.require("up_samples.\(level).1.deconv.bias", shape: [channels / 2])))
            } else {
                upsampling = .trilinear
            }
            up.append((reduce, upsampling, try blocks("up_layers.\(level)", first: 0, count: count, channels: channels / 2)))
        }
        self.up = up
        if configuration.use_conv_final {
            final = (
                try BlockNorm.load("conv_final.0", spec: norm, channels: filters, from: &state),
                try conv("conv_final.2", configuration.out_channels, filters, kernel: 1, bias: true)
            )
        } else {
            final = nil
        }
        guard state.unused.isEmpty else {
            throw NeuralEngineError("the checkpoint has keys this SegResNet does not use: \(state.unused.joined(separator: ", "))")
        }
    }

    /// Logits [B, out_channels, X, Y, Z] of an input [B, in_channels, X, Y, Z]
    /// whose sizes are multiples of 2^(levels − 1), as MONAI requires.
    public func forward(_ input: Tensor) throws(NeuralEngineError) -> Tensor {
        let divisor = 1 << (configuration.blocks_down.count - 1)
        guard input.shape.count == 5, input.shape[1] == configuration.in_channels, input.shape[2...].allSatisfy({ $0 % divisor == 0 })
        else {
            throw NeuralEngineError(
                "SegResNet takes [B, \(configuration.in_channels), X, Y, Z] with sizes divisible by \(divisor), got \(input.shape)")
        }
        let slope = configuration.act.slope
        func run(_ blocks: [ResBlock], _ x: Tensor) throws(NeuralEngineError) -> Tensor {
            var x = x
            for block in blocks {
                var y = x
                block.norm1.apply(to: &y, leakySlope: slope)
                y = try block.conv1.forward(y)
                block.norm2.apply(to: &y, leakySlope: slope)
                y = try block.conv2.forward(y)
                y.add(x)
                x = y
            }
            return x
        }
        var x = try initial.forward(input)
        var skips = [Tensor]()
        for (pre, blocks) in down {
            if let pre { x = try pre.forward(x) }
            x = try run(blocks, x)
            skips.append(x)
        }
        skips.removeLast()
        for (reduce, upsampling, blocks) in up {
            x = try reduce.forward(x)
            switch upsampling {
            case .trilinear: x = Trilinear.upsample2(x)
            case .transposed(let deconvolution): x = try deconvolution.forward(x)
            }
            let skip = skips.removeLast()
            guard skip.shape == x.shape else { throw NeuralEngineError("skip \(skip.shape) does not match the up-sampled \(x.shape)") }
            x.add(skip)
            x = try run(blocks, x)
        }
        guard let (norm, conv) = final else { return x }
        norm.apply(to: &x, leakySlope: slope)
        return try conv.forward(x)
    }
}

extension Tensor {
    /// Adds another tensor of the same shape in place.
    mutating func add(_ other: Tensor) {
        precondition(shape == other.shape)
        values.withUnsafeMutableBufferPointer { target in
            other.values.withUnsafeBufferPointer { source in
                for i in 0..<target.count { target[i] += source[i] }
            }
        }
    }
}

/// PyTorch's `nn.Upsample(scale_factor=2, mode="trilinear", align_corners=False)`:
/// each output sample reads the input at (o + 0.5) / 2 − 0.5 along each axis
/// (clamped at 0), linearly between its two neighbours; the three axes one after another.
enum Trilinear {
    static func upsample2(_ x: Tensor) -> Tensor {
        var y = x
        for axis in 2..<5 { y = along(axis, y) }
        return y
    }

    static func along(_ axis: Int, _ x: Tensor) -> Tensor {
        let n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        var shape = x.shape
        shape[axis] = 2 * n
        let taps: [(Int, Int, Float)] = (0..<(2 * n)).map { o in
            let source = max(0, (Float(o) + 0.5) / 2 - 0.5)
            let low = Int(source), high = low < n - 1 ? low + 1 : low
            return (low, high, source - Float(low))
        }
        return Tensor(shape: shape) { out in
            x.values.withUnsafeBufferPointer { input in
                for block in 0..<outer {
                    let source = input.baseAddress! + block * n * inner, target = out + block * 2 * n * inner
                    for (o, (low, high, weight)) in taps.enumerated() {
                        let a = source + low * inner, b = source + high * inner, c = target + o * inner
                        for i in 0..<inner { c[i] = a[i] + (b[i] - a[i]) * weight }
                    }
                }
            }
        }
    }
}
