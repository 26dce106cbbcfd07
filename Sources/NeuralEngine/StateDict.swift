/// Named tensors as a PyTorch `state_dict` holds them, with MONAI's key names
/// (`decoder5.conv_block.conv1.conv.weight`); blocks build themselves from a prefix.
public struct StateDict: Sendable {
    public var tensors: [String: Tensor]
    /// Keys read so far, to report the ones a checkpoint has but no layer used.
    private(set) var used = Set<String>()

    public init(_ tensors: [String: Tensor]) {
        self.tensors = tensors
    }

    /// The tensor under `key`; an error naming the key when it is missing.
    public mutating func require(_ key: String, shape: [Int]? = nil) throws(NeuralEngineError) -> Tensor {
        guard let tensor = tensors[key] else { throw NeuralEngineError("missing key \(key)") }
        if let shape, tensor.shape != shape { throw NeuralEngineError("\(key) has shape \(tensor.shape), expected \(shape)") }
        used.insert(key)
        return tensor
    }

    public mutating func optional(_ key: String) -> Tensor? {
        guard let tensor = tensors[key] else { return nil }
        used.insert(key)
        return tensor
    }

    /// Whether any key starts with `prefix`.
    public func has(_ prefix: String) -> Bool { tensors.keys.contains { $0.hasPrefix(prefix) } }

    /// Keys no layer read (batch-norm counters aside).
    public var unused: [String] { tensors.keys.filter { !used.contains($0) && !$0.hasSuffix("num_batches_tracked") }.sorted() }
}

extension BlockNorm {
    /// The norm under `prefix` after a convolution of `channels` outputs. With
    /// a `spec` (the model's `norm_name`), exactly the tensors MONAI's layer
    /// has are read, so extra or missing ones are an error; running
    /// statistics, when stored (batch norm, or instance norm with
    /// `track_running_stats`), are what PyTorch uses in evaluation. Without
    /// one, the kind is inferred from the tensors (the layer tests).
    static func load(_ prefix: String, spec: NormSpec?, channels: Int, from state: inout StateDict) throws(NeuralEngineError) -> BlockNorm {
        guard let spec else { return try inferred(prefix, from: &state) }
        var weight: Tensor?, bias: Tensor?
        if spec.hasAffine {
            weight = try state.require("\(prefix).weight", shape: [channels])
            bias = try state.require("\(prefix).bias", shape: [channels])
        }
        switch spec.kind {
        case .group:
            let groups = spec.groups ?? 1
            guard channels % groups == 0 else {
                throw NeuralEngineError("\(prefix): \(channels) channels do not split into num_groups \(groups)")
            }
            return .group(GroupNorm3d(groups: groups, weight: weight, bias: bias, epsilon: spec.epsilon))
        case .batch, .instance:
            var mean = state.optional("\(prefix).running_mean")
            if spec.kind == .batch, mean == nil { mean = try state.require("\(prefix).running_mean", shape: [channels]) }
            if let mean {
                return .batch(
                    BatchNorm3d(
                        weight: weight ?? Tensor(shape: [channels], values: [Float](repeating: 1, count: channels)),
                        bias: bias ?? Tensor(zeros: [channels]), runningMean: mean,
                        runningVariance: try state.require("\(prefix).running_var", shape: [channels]), epsilon: spec.epsilon))
            }
            return .instance(InstanceNorm3d(weight: weight, bias: bias, epsilon: spec.epsilon))
        }
    }

    /// `prefix.weight` etc. for batch norm; nothing stored means MONAI's instance norm without affine.
    static func inferred(_ prefix: String, from state: inout StateDict) throws(NeuralEngineError) -> BlockNorm {
        guard let weight = state.optional("\(prefix).weight") else { return .instance(InstanceNorm3d()) }
        let bias = try state.require("\(prefix).bias")
        if let mean = state.optional("\(prefix).running_mean") {
            return .batch(
                BatchNorm3d(weight: weight, bias: bias, runningMean: mean, runningVariance: try state.require("\(prefix).running_var")))
        }
        return .instance(InstanceNorm3d(weight: weight, bias: bias))
    }
}

/// A MONAI U-Net convolution block: `UnetResBlock` or `UnetBasicBlock`.
public enum UnetConvBlock: Sendable {
    case residual(UnetResBlock)
    case basic(UnetBasicBlock)

    /// The block under `prefix` (residual when `res_block`), kernel 3, stride 1.
    static func load(_ prefix: String, residual: Bool, norm: NormSpec? = nil, from state: inout StateDict) throws(NeuralEngineError)
        -> UnetConvBlock
    {
        func conv(_ name: String, padding: Int) throws(NeuralEngineError) -> Conv3d {
            Conv3d(
                weight: try state.require("\(prefix).\(name).conv.weight"), bias: state.optional("\(prefix).\(name).conv.bias"),
                padding: padding)
        }
        let conv1 = try conv("conv1", padding: 1)
        let norm1 = try BlockNorm.load("\(prefix).norm1", spec: norm, channels: conv1.weight.shape[0], from: &state)
        let conv2 = try conv("conv2", padding: 1)
        let norm2 = try BlockNorm.load("\(prefix).norm2", spec: norm, channels: conv2.weight.shape[0], from: &state)
        guard residual else { return .basic(UnetBasicBlock(conv1: conv1, norm1: norm1, conv2: conv2, norm2: norm2)) }
        var downsample: (conv: Conv3d, norm: BlockNorm)? = nil
        if state.has("\(prefix).conv3.") {
            let conv3 = try conv("conv3", padding: 0)
            downsample = (
                conv: conv3, norm: try BlockNorm.load("\(prefix).norm3", spec: norm, channels: conv3.weight.shape[0], from: &state)
            )
        }
        return .residual(UnetResBlock(conv1: conv1, norm1: norm1, conv2: conv2, norm2: norm2, downsample: downsample))
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        try forward(concatenating: [x])
    }

    public func forward(concatenating parts: consuming [Tensor]) throws(NeuralEngineError) -> Tensor {
        switch self {
        case .residual(let block): try block.forward(concatenating: parts)
        case .basic(let block): try block.forward(concatenating: parts)
        }
    }
}

/// MONAI's `UnetrUpBlock`: transposed conv (kernel = stride), concatenation
/// with the skip connection along channels, then a U-Net conv block.
public struct UnetrUpBlock: Sendable {
    public var transposedConvolution: ConvTranspose3d
    public var block: UnetConvBlock

    public static func load(_ prefix: String, residual: Bool, norm: NormSpec? = nil, from state: inout StateDict)
        throws(NeuralEngineError) -> UnetrUpBlock
    {
        UnetrUpBlock(
            transposedConvolution: ConvTranspose3d(weight: try state.require("\(prefix).transp_conv.conv.weight"), bias: nil),
            block: try UnetConvBlock.load("\(prefix).conv_block", residual: residual, norm: norm, from: &state))
    }

    /// The block on [up-sampled x, skip] along channels; the concatenation is
    /// read in place, and `skip` is released inside the block once used.
    public func forward(_ x: Tensor, skip: consuming Tensor) throws(NeuralEngineError) -> Tensor {
        let up = try transposedConvolution.forward(x)
        guard up.shape[0] == skip.shape[0], Array(up.shape[2...]) == Array(skip.shape[2...]) else {
            throw NeuralEngineError("skip \(skip.shape) does not match the up-sampled \(up.shape)")
        }
        return try block.forward(concatenating: [consume up, consume skip])
    }
}

/// MONAI's `UnetrPrUpBlock`: an initial transposed conv, then `num_layer`
/// more, each followed by a U-Net conv block when `conv_block` is set.
public struct UnetrPrUpBlock: Sendable {
    public var initial: ConvTranspose3d
    public var layers: [(ConvTranspose3d, UnetConvBlock?)]

    public static func load(
        _ prefix: String, layers count: Int, convBlock: Bool, residual: Bool, norm: NormSpec? = nil, from state: inout StateDict
    )
        throws(NeuralEngineError) -> UnetrPrUpBlock
    {
        let initial = ConvTranspose3d(weight: try state.require("\(prefix).transp_conv_init.conv.weight"), bias: nil)
        var layers = [(ConvTranspose3d, UnetConvBlock?)]()
        for index in 0..<count {
            if convBlock {
                layers.append(
                    (
                        ConvTranspose3d(weight: try state.require("\(prefix).blocks.\(index).0.conv.weight"), bias: nil),
                        try UnetConvBlock.load("\(prefix).blocks.\(index).1", residual: residual, norm: norm, from: &state)
                    ))
            } else {
                layers.append((ConvTranspose3d(weight: try state.require("\(prefix).blocks.\(index).conv.weight"), bias: nil), nil))
            }
        }
        return UnetrPrUpBlock(initial: initial, layers: layers)
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        var y = try initial.forward(x)
        for (up, block) in layers {
            y = try up.forward(y)
            if let block { y = try block.forward(y) }
        }
        return y
    }
}
