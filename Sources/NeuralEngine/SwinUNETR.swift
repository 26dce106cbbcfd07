import Foundation

/// The architecture of a SwinUNETR: MONAI 1.6's `SwinUNETR(...)` keyword
/// arguments with MONAI's defaults. Arguments that only matter in training
/// (dropouts, checkpointing, flash attention) are accepted, and so is the
/// `img_size` older MONAI took and ignored; HyenaND stages,
/// 2-D networks and anything MONAI does not take are refused by name.
public struct SwinUNETRConfiguration: Sendable, Equatable {
    public var in_channels = 1
    public var out_channels = 2
    public var patch_size = 2
    public var depths = [2, 2, 2, 2]
    public var num_heads = [3, 6, 12, 24]
    public var window_size = [7, 7, 7]
    public var qkv_bias = true
    public var mlp_ratio = 4.0
    public var feature_size = 24
    public var norm_name = NormSpec(.instance)
    public var drop_rate = 0.0
    public var attn_drop_rate = 0.0
    public var dropout_path_rate = 0.0
    /// LayerNorm (without affine) on each stage's output before it feeds the decoder.
    public var normalize = true
    public var patch_norm = false
    public var use_checkpoint = false
    public var spatial_dims = 3
    /// "merging" (MONAI's default, the v0.9 order) or "mergingv2".
    public var downsample = "merging"
    /// A residual convolution block at the start of each Swin stage.
    public var use_v2 = false
    public var use_flash_attention = false

    public init() {}
}

extension SwinUNETRConfiguration: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case in_channels, out_channels, patch_size, depths, num_heads, window_size, qkv_bias, mlp_ratio, feature_size, norm_name,
            drop_rate, attn_drop_rate, dropout_path_rate, normalize, patch_norm, use_checkpoint, spatial_dims, downsample, use_v2,
            use_hyena, hyena_stages, use_flash_attention, img_size
    }

    /// HyenaND's settings: accepted with `use_hyena` false, where they change nothing.
    static let hyenaSettings = [
        "hyena_kernel_size", "hyena_kernel_mlp_dim", "hyena_kernel_layers", "hyena_mask_max_attenuation", "hyena_fft_padding",
        "hyena_grid_type", "hyena_use_chunked_fft", "hyena_use_fft_short_conv", "hyena_omega_0", "hyena_l_cache",
        "hyena_short_conv_fft_chunks",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try MONAIArguments.refuseUnknown(
            in: decoder, known: CodingKeys.allCases.map(\.rawValue) + Self.hyenaSettings, network: "SwinUNETR")
        func fail(_ key: CodingKeys, _ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message)
        }
        spatial_dims = try container.decodeIfPresent(Int.self, forKey: .spatial_dims) ?? 3
        guard spatial_dims == 3 else { throw fail(.spatial_dims, "spatial_dims \(spatial_dims) is not supported: Metis runs 3-D networks") }
        in_channels = try container.decode(Int.self, forKey: .in_channels)
        out_channels = try container.decode(Int.self, forKey: .out_channels)
        patch_size = try container.decodeIfPresent(Int.self, forKey: .patch_size) ?? 2
        depths = try container.decodeIfPresent([Int].self, forKey: .depths) ?? [2, 2, 2, 2]
        num_heads = try container.decodeIfPresent([Int].self, forKey: .num_heads) ?? [3, 6, 12, 24]
        guard depths.count == 4, num_heads.count == 4, (depths + num_heads).allSatisfy({ $0 > 0 }) else {
            throw fail(.depths, "depths and num_heads must hold four positive counts, one per Swin stage")
        }
        window_size = container.contains(.window_size) ? try MONAIArguments.sizes(container, .window_size, dimensions: 3) : [7, 7, 7]
        guard window_size.allSatisfy({ $0 > 0 }) else { throw fail(.window_size, "window_size must be positive") }
        qkv_bias = try container.decodeIfPresent(Bool.self, forKey: .qkv_bias) ?? true
        mlp_ratio = try container.decodeIfPresent(Double.self, forKey: .mlp_ratio) ?? 4
        feature_size = try container.decodeIfPresent(Int.self, forKey: .feature_size) ?? 24
        guard feature_size % 12 == 0 else { throw fail(.feature_size, "feature_size should be divisible by 12 (as MONAI requires)") }
        for (stage, heads) in num_heads.enumerated() where (feature_size << stage) % heads != 0 {
            throw fail(.num_heads, "stage \(stage + 1) has \(feature_size << stage) features, not divisible by \(heads) heads")
        }
        norm_name = try container.decodeIfPresent(NormSpec.self, forKey: .norm_name) ?? NormSpec(.instance)
        for (key, keyPath) in [
            (CodingKeys.drop_rate, \SwinUNETRConfiguration.drop_rate), (.attn_drop_rate, \.attn_drop_rate),
            (.dropout_path_rate, \.dropout_path_rate),
        ] {
            self[keyPath: keyPath] = try container.decodeIfPresent(Double.self, forKey: key) ?? 0
            guard (0...1).contains(self[keyPath: keyPath]) else { throw fail(key, "\(key.rawValue) must be in [0, 1]") }
        }
        normalize = try container.decodeIfPresent(Bool.self, forKey: .normalize) ?? true
        patch_norm = try container.decodeIfPresent(Bool.self, forKey: .patch_norm) ?? false
        use_checkpoint = try container.decodeIfPresent(Bool.self, forKey: .use_checkpoint) ?? false
        downsample = try container.decodeIfPresent(String.self, forKey: .downsample) ?? "merging"
        guard ["merging", "mergingv2"].contains(downsample) else {
            throw fail(.downsample, "downsample \"\(downsample)\" is not supported; use \"merging\" or \"mergingv2\"")
        }
        use_v2 = try container.decodeIfPresent(Bool.self, forKey: .use_v2) ?? false
        guard try container.decodeIfPresent(Bool.self, forKey: .use_hyena) != true else {
            throw fail(.use_hyena, "use_hyena is not supported: Metis runs windowed attention")
        }
        guard try !container.contains(.hyena_stages) || container.decodeNil(forKey: .hyena_stages) else {
            throw fail(.hyena_stages, "hyena_stages is not supported: Metis runs windowed attention")
        }
        use_flash_attention = try container.decodeIfPresent(Bool.self, forKey: .use_flash_attention) ?? false
        // Older MONAI took img_size (deprecated, then removed; MONAI's BTCV bundle still passes it): it never changed the network.
        if container.contains(.img_size) {
            let sizes = try MONAIArguments.sizes(container, .img_size, dimensions: 3)
            let multiple = Int(pow(Double(patch_size), 5))
            guard sizes.allSatisfy({ $0 % multiple == 0 }) else {
                throw fail(.img_size, "img_size \(sizes) must be divisible by patch_size⁵ (\(multiple))")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(in_channels, forKey: .in_channels)
        try container.encode(out_channels, forKey: .out_channels)
        try container.encode(patch_size, forKey: .patch_size)
        try container.encode(depths, forKey: .depths)
        try container.encode(num_heads, forKey: .num_heads)
        try container.encode(window_size, forKey: .window_size)
        try container.encode(qkv_bias, forKey: .qkv_bias)
        try container.encode(mlp_ratio, forKey: .mlp_ratio)
        try container.encode(feature_size, forKey: .feature_size)
        try container.encode(norm_name, forKey: .norm_name)
        try container.encode(drop_rate, forKey: .drop_rate)
        try container.encode(attn_drop_rate, forKey: .attn_drop_rate)
        try container.encode(dropout_path_rate, forKey: .dropout_path_rate)
        try container.encode(normalize, forKey: .normalize)
        try container.encode(patch_norm, forKey: .patch_norm)
        try container.encode(use_checkpoint, forKey: .use_checkpoint)
        try container.encode(spatial_dims, forKey: .spatial_dims)
        try container.encode(downsample, forKey: .downsample)
        try container.encode(use_v2, forKey: .use_v2)
        try container.encode(use_flash_attention, forKey: .use_flash_attention)
    }
}

/// MONAI's `SwinUNETR` (Hatamizadeh 2022): a Swin transformer encoder —
/// patch embedding, four stages of window attention (shifted every other
/// block, relative position bias, MONAI's region mask) each ending in a patch
/// merging — whose five outputs (layer-normalised) feed U-Net residual
/// blocks and a decoder of transposed convolutions. Inputs must divide by
/// patch_size⁵, as in MONAI.
public struct SwinUNETR: Sendable {
    struct SwinBlock: Sendable {
        var norm1: LayerNorm
        /// `attn.qkv` and `attn.proj`; the bias and mask are added to its scores.
        var attention: SelfAttention
        /// relative_position_bias_table [(2w₀−1)(2w₁−1)(2w₂−1), heads].
        var table: Tensor
        var norm2: LayerNorm
        var mlp: MLPBlock
    }

    struct Stage: Sendable {
        var convolution: UnetConvBlock?
        var blocks: [SwinBlock]
        var mergeNorm: LayerNorm
        var reduction: Linear
    }

    public let configuration: SwinUNETRConfiguration
    let patchEmbedding: Conv3d
    let patchNorm: LayerNorm?
    let stages: [Stage]
    /// MONAI's relative_position_index of the configured window, n × n (n = its volume), row-major.
    let relativeIndex: [Int]
    let encoders: [UnetConvBlock]
    let decoders: [UnetrUpBlock]
    let out: Conv3d

    public init(configuration: SwinUNETRConfiguration, state: StateDict) throws(NeuralEngineError) {
        var state = state
        self.configuration = configuration
        let c = configuration, f = c.feature_size, p = c.patch_size
        patchEmbedding = Conv3d(
            weight: try state.require("swinViT.patch_embed.proj.weight", shape: [f, c.in_channels, p, p, p]),
            bias: try state.require("swinViT.patch_embed.proj.bias", shape: [f]), stride: p)
        patchNorm =
            c.patch_norm
            ? LayerNorm(
                weight: try state.require("swinViT.patch_embed.norm.weight", shape: [f]),
                bias: try state.require("swinViT.patch_embed.norm.bias", shape: [f])) : nil
        let w = c.window_size
        let tableSize = (2 * w[0] - 1) * (2 * w[1] - 1) * (2 * w[2] - 1)
        var stages = [Stage]()
        for stage in 0..<4 {
            let dim = f << stage, prefix = "swinViT.layers\(stage + 1).0"
            let convolution =
                c.use_v2
                ? try UnetConvBlock.load("swinViT.layers\(stage + 1)c.0.layer", residual: true, norm: NormSpec(.instance), from: &state)
                : nil
            var blocks = [SwinBlock]()
            for index in 0..<c.depths[stage] {
                let b = "\(prefix).blocks.\(index)"
                let hidden = Int(Double(dim) * c.mlp_ratio)
                func norm(_ name: String, _ width: Int) throws(NeuralEngineError) -> LayerNorm {
                    LayerNorm(
                        weight: try state.require("\(b).\(name).weight", shape: [width]),
                        bias: try state.require("\(b).\(name).bias", shape: [width]))
                }
                blocks.append(
                    SwinBlock(
                        norm1: try norm("norm1", dim),
                        attention: SelfAttention(
                            heads: c.num_heads[stage],
                            qkv: Linear(
                                weight: try state.require("\(b).attn.qkv.weight", shape: [3 * dim, dim]),
                                bias: c.qkv_bias ? try state.require("\(b).attn.qkv.bias", shape: [3 * dim]) : nil),
                            outputProjection: Linear(
                                weight: try state.require("\(b).attn.proj.weight", shape: [dim, dim]),
                                bias: try state.require("\(b).attn.proj.bias", shape: [dim]))),
                        table: try state.require("\(b).attn.relative_position_bias_table", shape: [tableSize, c.num_heads[stage]]),
                        norm2: try norm("norm2", dim),
                        mlp: MLPBlock(
                            linear1: Linear(
                                weight: try state.require("\(b).mlp.linear1.weight", shape: [hidden, dim]),
                                bias: try state.require("\(b).mlp.linear1.bias", shape: [hidden])),
                            linear2: Linear(
                                weight: try state.require("\(b).mlp.linear2.weight", shape: [dim, hidden]),
                                bias: try state.require("\(b).mlp.linear2.bias", shape: [dim])))))
                // A buffer MONAI saves; Metis computes the same index itself.
                _ = state.optional("\(b).attn.relative_position_index")
            }
            stages.append(
                Stage(
                    convolution: convolution, blocks: blocks,
                    mergeNorm: LayerNorm(
                        weight: try state.require("\(prefix).downsample.norm.weight", shape: [8 * dim]),
                        bias: try state.require("\(prefix).downsample.norm.bias", shape: [8 * dim])),
                    reduction: Linear(
                        weight: try state.require("\(prefix).downsample.reduction.weight", shape: [2 * dim, 8 * dim]), bias: nil)))
        }
        self.stages = stages
        relativeIndex = Self.relativePositionIndex(window: w)
        let norm = c.norm_name
        encoders = [
            try UnetConvBlock.load("encoder1.layer", residual: true, norm: norm, from: &state),
            try UnetConvBlock.load("encoder2.layer", residual: true, norm: norm, from: &state),
            try UnetConvBlock.load("encoder3.layer", residual: true, norm: norm, from: &state),
            try UnetConvBlock.load("encoder4.layer", residual: true, norm: norm, from: &state),
            try UnetConvBlock.load("encoder10.layer", residual: true, norm: norm, from: &state),
        ]
        decoders = try [5, 4, 3, 2, 1].map { index throws(NeuralEngineError) in
            try UnetrUpBlock.load("decoder\(index)", residual: true, norm: norm, from: &state)
        }
        out = Conv3d(
            weight: try state.require("out.conv.conv.weight", shape: [c.out_channels, f, 1, 1, 1]),
            bias: try state.require("out.conv.conv.bias"))
        guard state.unused.isEmpty else {
            throw NeuralEngineError("the checkpoint has keys this SwinUNETR does not use: \(state.unused.joined(separator: ", "))")
        }
    }

    /// Logits [B, out_channels, X, Y, Z] of an input [B, in_channels, X, Y, Z], each size divisible by patch_size⁵.
    public func forward(_ input: Tensor) throws(NeuralEngineError) -> Tensor {
        let multiple = Int(pow(Double(configuration.patch_size), 5))
        guard input.shape.count == 5, input.shape[1] == configuration.in_channels, input.shape[2...].allSatisfy({ $0 % multiple == 0 })
        else {
            throw NeuralEngineError(
                "SwinUNETR takes [B, \(configuration.in_channels), X, Y, Z] with sizes divisible by \(multiple), got \(input.shape)")
        }
        var hidden = try hiddenStates(input)
        let enc0 = try encoders[0].forward(input)
        let enc1 = try encoders[1].forward(hidden[0])
        let enc2 = try encoders[2].forward(hidden[1])
        let enc3 = try encoders[3].forward(hidden[2])
        let dec4 = try encoders[4].forward(hidden[4])
        let dec3 = try decoders[0].forward(dec4, skip: hidden[3])
        hidden = []
        let dec2 = try decoders[1].forward(dec3, skip: enc3)
        let dec1 = try decoders[2].forward(dec2, skip: enc2)
        let dec0 = try decoders[3].forward(dec1, skip: enc1)
        return try out.forward(try decoders[4].forward(dec0, skip: enc0))
    }

    /// The Swin transformer's five outputs (MONAI's `hidden_states_out`): the patch embedding and each stage's, projected.
    func hiddenStates(_ input: Tensor) throws(NeuralEngineError) -> [Tensor] {
        var x = try patchEmbedding.forward(input)
        if let patchNorm { x = Self.channelwise(x) { patchNorm.forward($0) } }
        var hidden = [project(x)]
        for stage in stages {
            if let convolution = stage.convolution { x = try convolution.forward(x) }
            x = try forward(stage, x)
            hidden.append(project(x))
        }
        return hidden
    }

    /// MONAI's `proj_out`: a LayerNorm over the channels without affine when `normalize`.
    func project(_ x: Tensor) -> Tensor {
        guard configuration.normalize else { return x }
        let channels = x.shape[1]
        let plain = LayerNorm(
            weight: Tensor(shape: [channels], values: .init(repeating: 1, count: channels)), bias: Tensor(zeros: [channels]))
        return Self.channelwise(x) { plain.forward($0) }
    }

    /// `body` on the features of each voxel: [B, C, D, H, W] as [B·D·H·W, C] and back.
    static func channelwise(_ x: Tensor, _ body: (Tensor) throws(NeuralEngineError) -> Tensor) rethrows -> Tensor {
        let last = channelsLast(x)
        let y = try body(Tensor(shape: [last.count / x.shape[1], x.shape[1]], values: last))
        return channelsFirst(y.values, shape: [x.shape[0], y.shape[1]] + Array(x.shape[2...]))
    }

    static func channelsLast(_ x: Tensor) -> [Float] {
        let (b, c) = (x.shape[0], x.shape[1]), voxels = x.shape[2...].reduce(1, *)
        var out = [Float](repeating: 0, count: x.count)
        x.values.withUnsafeBufferPointer { source in
            for n in 0..<b {
                for channel in 0..<c {
                    let from = (n * c + channel) * voxels
                    for v in 0..<voxels { out[(n * voxels + v) * c + channel] = source[from + v] }
                }
            }
        }
        return out
    }

    static func channelsFirst(_ values: [Float], shape: [Int]) -> Tensor {
        let (b, c) = (shape[0], shape[1]), voxels = shape[2...].reduce(1, *)
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
            for n in 0..<b {
                for v in 0..<voxels {
                    let from = (n * voxels + v) * c
                    for channel in 0..<c { out[(n * c + channel) * voxels + v] = source[from + channel] }
                }
            }
        }
        return Tensor(shape: shape, values: out)
    }

    /// MONAI's `relative_position_index` for window `w`: for tokens i, j (row-major in the window), the row of the bias table.
    static func relativePositionIndex(window w: [Int]) -> [Int] {
        let n = w[0] * w[1] * w[2]
        func coordinates(_ t: Int) -> (Int, Int, Int) { (t / (w[1] * w[2]), (t / w[2]) % w[1], t % w[2]) }
        var index = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            let a = coordinates(i)
            for j in 0..<n {
                let b = coordinates(j)
                index[i * n + j] =
                    (a.0 - b.0 + w[0] - 1) * (2 * w[1] - 1) * (2 * w[2] - 1) + (a.1 - b.1 + w[1] - 1) * (2 * w[2] - 1)
                    + (a.2 - b.2 + w[2] - 1)
            }
        }
        return index
    }

    /// One Swin stage on [B, C, D, H, W]: its blocks, then the patch merging to [B, 2C, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉].
    func forward(_ stage: Stage, _ x: Tensor) throws(NeuralEngineError) -> Tensor {
        let batch = x.shape[0], channels = x.shape[1]
        let dims = [x.shape[2], x.shape[3], x.shape[4]]
        // MONAI's get_window_size: an axis no longer than the window is one window, unshifted.
        let window = (0..<3).map { dims[$0] <= configuration.window_size[$0] ? dims[$0] : configuration.window_size[$0] }
        let shift = (0..<3).map { dims[$0] <= configuration.window_size[$0] ? 0 : configuration.window_size[$0] / 2 }
        let padded = (0..<3).map { (dims[$0] + window[$0] - 1) / window[$0] * window[$0] }
        let mask = shift.contains { $0 > 0 } ? Self.regionMask(padded: padded, window: window, shift: shift) : nil
        var last = Self.channelsLast(x)
        let voxels = dims.reduce(1, *)
        var merged = [Float]()
        let half = dims.map { ($0 + 1) / 2 }
        for n in 0..<batch {
            var volume = Tensor(shape: [voxels, channels], values: Array(last[n * voxels * channels..<(n + 1) * voxels * channels]))
            for (index, block) in stage.blocks.enumerated() {
                // Every other block is shifted, and only a shifted one is masked.
                let shifted = index % 2 == 1
                volume = try forward(
                    block, volume, dims: dims, window: window, shift: shifted ? shift : [0, 0, 0], padded: padded,
                    mask: shifted ? mask : nil)
            }
            merged += try merge(stage, volume.values, dims: dims, channels: channels).values
        }
        last = []
        return Self.channelsFirst(merged, shape: [batch, 2 * channels] + half)
    }

    /// MONAI's `compute_mask`: −100 between tokens of one window that come from different regions of the shifted grid.
    static func regionMask(padded: [Int], window: [Int], shift: [Int]) -> [Float] {
        func region(_ p: Int, _ axis: Int) -> Int {
            let s = shift[axis], size = padded[axis]
            if s == 0 { return 2 }
            return p >= size - s ? 2 : p >= size - window[axis] ? 1 : 0
        }
        let n = window.reduce(1, *)
        let counts = (0..<3).map { padded[$0] / window[$0] }
        var mask = [Float]()
        mask.reserveCapacity(counts.reduce(1, *) * n * n)
        for wd in 0..<counts[0] {
            for wh in 0..<counts[1] {
                for ww in 0..<counts[2] {
                    var labels = [Int]()
                    for a in 0..<window[0] {
                        for b in 0..<window[1] {
                            for c in 0..<window[2] {
                                labels.append(
                                    region(wd * window[0] + a, 0) * 9 + region(wh * window[1] + b, 1) * 3 + region(ww * window[2] + c, 2))
                            }
                        }
                    }
                    for i in 0..<n { for j in 0..<n { mask.append(labels[i] == labels[j] ? 0 : -100) } }
                }
            }
        }
        return mask
    }

    /// One Swin block on a volume's voxels [D·H·W, C] (row-major D, H, W).
    func forward(
        _ block: SwinBlock, _ x: Tensor, dims: [Int], window: [Int], shift: [Int], padded: [Int], mask: [Float]?
    ) throws(NeuralEngineError) -> Tensor {
        let channels = x.shape[1]
        let normed = block.norm1.forward(x)
        let n = window.reduce(1, *)
        let counts = (0..<3).map { padded[$0] / window[$0] }
        let windows = counts.reduce(1, *)
        // Window tokens in MONAI's order (windows row-major, tokens row-major in each), rolled by −shift; −1 is padding.
        var sources = [Int](repeating: -1, count: windows * n)
        var token = 0
        for wd in 0..<counts[0] {
            for wh in 0..<counts[1] {
                for ww in 0..<counts[2] {
                    for a in 0..<window[0] {
                        for b in 0..<window[1] {
                            for c in 0..<window[2] {
                                let q = [
                                    (wd * window[0] + a + shift[0]) % padded[0], (wh * window[1] + b + shift[1]) % padded[1],
                                    (ww * window[2] + c + shift[2]) % padded[2],
                                ]
                                if q[0] < dims[0], q[1] < dims[1], q[2] < dims[2] {
                                    sources[token] = (q[0] * dims[1] + q[1]) * dims[2] + q[2]
                                }
                                token += 1
                            }
                        }
                    }
                }
            }
        }
        var gathered = [Float](repeating: 0, count: windows * n * channels)
        normed.values.withUnsafeBufferPointer { from in
            for (t, source) in sources.enumerated() where source >= 0 {
                for channel in 0..<channels { gathered[t * channels + channel] = from[source * channels + channel] }
            }
        }
        let bias = relativeBias(block, tokens: n)
        let projected = try block.attention.forward(Tensor(shape: [windows, n, channels], values: gathered)) { w, h, scores in
            for i in 0..<n * n {
                scores[i] += bias[h * n * n + i]
                if let mask { scores[i] += mask[w * n * n + i] }
            }
        }
        gathered = []
        var y = x
        projected.values.withUnsafeBufferPointer { from in
            for (t, source) in sources.enumerated() where source >= 0 {
                for channel in 0..<channels { y.values[source * channels + channel] += from[t * channels + channel] }
            }
        }
        let mlp = try block.mlp.forward(block.norm2.forward(y))
        for i in y.values.indices { y.values[i] += mlp.values[i] }
        return y
    }

    /// The relative position bias of each head for token pairs i, j < n, [heads, n, n]: MONAI slices the
    /// configured window's index to [:n, :n] when the window shrank to a stage smaller than it.
    func relativeBias(_ block: SwinBlock, tokens n: Int) -> [Float] {
        let heads = block.attention.heads, full = configuration.window_size.reduce(1, *)
        var bias = [Float](repeating: 0, count: heads * n * n)
        for i in 0..<n {
            for j in 0..<n {
                let row = relativeIndex[i * full + j]
                for h in 0..<heads { bias[(h * n + i) * n + j] = block.table.values[row * heads + h] }
            }
        }
        return bias
    }

    /// MONAI's `PatchMerging` (or `PatchMergingV2`): odd sizes padded with zeros, the eight
    /// sub-grids concatenated on the channels in MONAI's order, LayerNorm, then a linear reduction to 2C.
    func merge(_ stage: Stage, _ x: [Float], dims: [Int], channels: Int) throws(NeuralEngineError) -> Tensor {
        let half = dims.map { ($0 + 1) / 2 }
        // (depth, height, width) offsets in concatenation order.
        let offsets: [(Int, Int, Int)] =
            configuration.downsample == "mergingv2"
            ? [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]
            : [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 1, 1)]
        let count = half.reduce(1, *)
        var gathered = [Float](repeating: 0, count: count * 8 * channels)
        for d in 0..<half[0] {
            for h in 0..<half[1] {
                for w in 0..<half[2] {
                    let target = ((d * half[1] + h) * half[2] + w) * 8 * channels
                    for (part, offset) in offsets.enumerated() {
                        let (sd, sh, sw) = (2 * d + offset.0, 2 * h + offset.1, 2 * w + offset.2)
                        guard sd < dims[0], sh < dims[1], sw < dims[2] else { continue }
                        let source = ((sd * dims[1] + sh) * dims[2] + sw) * channels
                        for channel in 0..<channels { gathered[target + part * channels + channel] = x[source + channel] }
                    }
                }
            }
        }
        return try stage.reduction.forward(stage.mergeNorm.forward(Tensor(shape: [count, 8 * channels], values: gathered)))
    }
}
