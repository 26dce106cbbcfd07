/// The architecture of a UNETR: MONAI 1.6's `UNETR(...)` keyword arguments,
/// read as MONAI takes them (what a model card's `architecture` holds): every
/// argument MONAI makes optional is optional with MONAI's default, `img_size`
/// an int or a sequence, `norm_name` a name or `[name, {options}]`. An
/// argument MONAI does not take, or one Metis cannot honour, is refused by name.
public struct UNETRConfiguration: Sendable, Equatable {
    public var in_channels: Int
    public var out_channels: Int
    public var img_size: [Int]
    public var feature_size: Int = 16
    public var hidden_size: Int = 768
    public var mlp_dim: Int = 3072
    public var num_heads: Int = 12
    public var proj_type: String = "conv"
    public var norm_name = NormSpec(.instance)
    public var conv_block: Bool = true
    public var res_block: Bool = true
    public var dropout_rate: Double = 0
    public var spatial_dims: Int = 3
    public var qkv_bias: Bool = false
    /// Keeps attention maps for inspection in MONAI; no effect on the logits.
    public var save_attn: Bool = false

    public init(in_channels: Int, out_channels: Int, img_size: [Int]) {
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.img_size = img_size
    }

    /// MONAI's UNETR uses 16³ patches and 12 transformer layers.
    public static let patch = 16
    public static let layers = 12
}

extension UNETRConfiguration: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case in_channels, out_channels, img_size, feature_size, hidden_size, mlp_dim, num_heads, proj_type, norm_name, conv_block,
            res_block, dropout_rate, spatial_dims, qkv_bias, save_attn
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try MONAIArguments.refuseUnknown(in: decoder, known: CodingKeys.allCases.map(\.rawValue), network: "UNETR")
        in_channels = try container.decode(Int.self, forKey: .in_channels)
        out_channels = try container.decode(Int.self, forKey: .out_channels)
        spatial_dims = try container.decodeIfPresent(Int.self, forKey: .spatial_dims) ?? 3
        guard spatial_dims == 3 else {
            throw DecodingError.dataCorruptedError(
                forKey: .spatial_dims, in: container,
                debugDescription: "spatial_dims \(spatial_dims) is not supported: Metis runs 3-D networks")
        }
        img_size = try MONAIArguments.sizes(container, .img_size, dimensions: spatial_dims)
        feature_size = try container.decodeIfPresent(Int.self, forKey: .feature_size) ?? 16
        hidden_size = try container.decodeIfPresent(Int.self, forKey: .hidden_size) ?? 768
        mlp_dim = try container.decodeIfPresent(Int.self, forKey: .mlp_dim) ?? 3072
        num_heads = try container.decodeIfPresent(Int.self, forKey: .num_heads) ?? 12
        proj_type = try container.decodeIfPresent(String.self, forKey: .proj_type) ?? "conv"
        norm_name = try container.decodeIfPresent(NormSpec.self, forKey: .norm_name) ?? NormSpec(.instance)
        conv_block = try container.decodeIfPresent(Bool.self, forKey: .conv_block) ?? true
        res_block = try container.decodeIfPresent(Bool.self, forKey: .res_block) ?? true
        dropout_rate = try container.decodeIfPresent(Double.self, forKey: .dropout_rate) ?? 0
        guard (0...1).contains(dropout_rate) else {
            throw DecodingError.dataCorruptedError(forKey: .dropout_rate, in: container, debugDescription: "dropout_rate must be in [0, 1]")
        }
        qkv_bias = try container.decodeIfPresent(Bool.self, forKey: .qkv_bias) ?? false
        save_attn = try container.decodeIfPresent(Bool.self, forKey: .save_attn) ?? false
    }
}

/// MONAI's `UNETR`: a ViT encoder on 16³ patches whose hidden states 3, 6, 9
/// and 12 feed a convolutional decoder through skip connections.
public struct UNETR: Sendable {
    public let configuration: UNETRConfiguration
    let patchEmbedding: PatchEmbedding
    let blocks: [TransformerBlock]
    let norm: LayerNorm
    let encoder1: UnetConvBlock
    let encoder2: UnetrPrUpBlock
    let encoder3: UnetrPrUpBlock
    let encoder4: UnetrPrUpBlock
    let decoder5: UnetrUpBlock
    let decoder4: UnetrUpBlock
    let decoder3: UnetrUpBlock
    let decoder2: UnetrUpBlock
    let out: Conv3d

    /// Builds the network from a state dict with MONAI's key names; missing,
    /// mis-shaped or unused keys are an error that lists them.
    public init(configuration: UNETRConfiguration, state: StateDict) throws(NeuralEngineError) {
        guard configuration.spatial_dims == 3, configuration.img_size.count == 3,
            configuration.img_size.allSatisfy({ $0 % UNETRConfiguration.patch == 0 })
        else {
            throw NeuralEngineError("UNETR needs three spatial dimensions divisible by 16, got img_size \(configuration.img_size)")
        }
        guard configuration.hidden_size % configuration.num_heads == 0 else {
            throw NeuralEngineError("hidden_size \(configuration.hidden_size) is not a multiple of num_heads \(configuration.num_heads)")
        }
        var state = state
        self.configuration = configuration
        let hidden = configuration.hidden_size, patch = UNETRConfiguration.patch
        let tokens = configuration.img_size.reduce(1) { $0 * $1 / patch }
        let positions = try state.require("vit.patch_embedding.position_embeddings", shape: [1, tokens, hidden])
        switch configuration.proj_type {
        case "perceptron":
            patchEmbedding = PatchEmbedding(
                projection: .perceptron(
                    Linear(
                        weight: try state.require(
                            "vit.patch_embedding.patch_embeddings.1.weight",
                            shape: [hidden, patch * patch * patch * configuration.in_channels]),
                        bias: try state.require("vit.patch_embedding.patch_embeddings.1.bias", shape: [hidden]))),
                patch: patch, positionEmbeddings: positions)
        case "conv":
            patchEmbedding = PatchEmbedding(
                projection: .convolution(
                    Conv3d(
                        weight: try state.require(
                            "vit.patch_embedding.patch_embeddings.weight", shape: [hidden, configuration.in_channels, patch, patch, patch]),
                        bias: try state.require("vit.patch_embedding.patch_embeddings.bias", shape: [hidden]), stride: patch)),
                patch: patch, positionEmbeddings: positions)
        default:
            throw NeuralEngineError("proj_type '\(configuration.proj_type)' is not perceptron or conv")
        }
        var blocks = [TransformerBlock]()
        for index in 0..<UNETRConfiguration.layers {
            let prefix = "vit.blocks.\(index)"
            func linear(_ name: String, _ shape: [Int], bias: Bool) throws(NeuralEngineError) -> Linear {
                Linear(
                    weight: try state.require("\(prefix).\(name).weight", shape: shape),
                    bias: bias ? try state.require("\(prefix).\(name).bias") : nil)
            }
            blocks.append(
                TransformerBlock(
                    norm1: LayerNorm(
                        weight: try state.require("\(prefix).norm1.weight", shape: [hidden]),
                        bias: try state.require("\(prefix).norm1.bias")),
                    attention: SelfAttention(
                        heads: configuration.num_heads, qkv: try linear("attn.qkv", [3 * hidden, hidden], bias: configuration.qkv_bias),
                        outputProjection: try linear("attn.out_proj", [hidden, hidden], bias: true)),
                    norm2: LayerNorm(
                        weight: try state.require("\(prefix).norm2.weight", shape: [hidden]),
                        bias: try state.require("\(prefix).norm2.bias")),
                    mlp: MLPBlock(
                        linear1: try linear("mlp.linear1", [configuration.mlp_dim, hidden], bias: true),
                        linear2: try linear("mlp.linear2", [hidden, configuration.mlp_dim], bias: true))))
            // MONAI keeps a (never used) cross-attention norm in every block.
            _ = state.optional("\(prefix).norm_cross_attn.weight")
            _ = state.optional("\(prefix).norm_cross_attn.bias")
        }
        self.blocks = blocks
        norm = LayerNorm(weight: try state.require("vit.norm.weight", shape: [hidden]), bias: try state.require("vit.norm.bias"))
        let residual = configuration.res_block, normSpec = configuration.norm_name
        encoder1 = try UnetConvBlock.load("encoder1.layer", residual: residual, norm: normSpec, from: &state)
        encoder2 = try UnetrPrUpBlock.load(
            "encoder2", layers: 2, convBlock: configuration.conv_block, residual: residual, norm: normSpec, from: &state)
        encoder3 = try UnetrPrUpBlock.load(
            "encoder3", layers: 1, convBlock: configuration.conv_block, residual: residual, norm: normSpec, from: &state)
        encoder4 = try UnetrPrUpBlock.load(
            "encoder4", layers: 0, convBlock: configuration.conv_block, residual: residual, norm: normSpec, from: &state)
        decoder5 = try UnetrUpBlock.load("decoder5", residual: residual, norm: normSpec, from: &state)
        decoder4 = try UnetrUpBlock.load("decoder4", residual: residual, norm: normSpec, from: &state)
        decoder3 = try UnetrUpBlock.load("decoder3", residual: residual, norm: normSpec, from: &state)
        decoder2 = try UnetrUpBlock.load("decoder2", residual: residual, norm: normSpec, from: &state)
        out = Conv3d(
            weight: try state.require("out.conv.conv.weight", shape: [configuration.out_channels, configuration.feature_size, 1, 1, 1]),
            bias: try state.require("out.conv.conv.bias"))
        guard state.unused.isEmpty else {
            throw NeuralEngineError("the checkpoint has keys this UNETR does not use: \(state.unused.joined(separator: ", "))")
        }
    }

    /// Logits [B, out_channels, X, Y, Z] of an input [B, in_channels, X, Y, Z] of `img_size`.
    public func forward(_ input: Tensor) throws(NeuralEngineError) -> Tensor {
        guard input.shape.count == 5, input.shape[1] == configuration.in_channels, Array(input.shape[2...]) == configuration.img_size else {
            throw NeuralEngineError(
                "UNETR takes [B, \(configuration.in_channels), \(configuration.img_size.map(String.init).joined(separator: ", "))], got \(input.shape)"
            )
        }
        var x = try patchEmbedding.forward(input)
        var hidden = [Tensor]()
        for block in blocks {
            x = try block.forward(x)
            hidden.append(x)
        }
        x = norm.forward(x)
        // Each skip is made as late as it can be and handed over to its decoder,
        // which releases it once used: the full-resolution one (enc1) only lives
        // through the last decoder.
        let enc4 = try encoder4.forward(projectFeatures(hidden[9]))
        let dec3 = try decoder5.forward(projectFeatures(x), skip: consume enc4)
        let enc3 = try encoder3.forward(projectFeatures(hidden[6]))
        let dec2 = try decoder4.forward(dec3, skip: consume enc3)
        let enc2 = try encoder2.forward(projectFeatures(hidden[3]))
        hidden = []
        let dec1 = try decoder3.forward(dec2, skip: consume enc2)
        let enc1 = try encoder1.forward(input)
        return try out.forward(try decoder2.forward(dec1, skip: consume enc1))
    }

    /// Tokens [B, X·Y·Z, hidden] as a feature volume [B, hidden, X, Y, Z] (MONAI's `proj_feat`).
    func projectFeatures(_ tokens: Tensor) -> Tensor {
        let batch = tokens.shape[0], count = tokens.shape[1], hidden = tokens.shape[2]
        let grid = configuration.img_size.map { $0 / UNETRConfiguration.patch }
        var values = [Float](repeating: 0, count: tokens.count)
        for b in 0..<batch {
            for t in 0..<count {
                for h in 0..<hidden { values[(b * hidden + h) * count + t] = tokens.values[(b * count + t) * hidden + h] }
            }
        }
        return Tensor(shape: [batch, hidden] + grid, values: values)
    }
}
