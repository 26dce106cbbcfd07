/// The normalisation of a MONAI U-Net block: `norm_name` "instance"
/// (InstanceNorm3d without affine, MONAI's default) or "batch" (eval).
public enum BlockNorm: Sendable {
    case instance(InstanceNorm3d)
    case batch(BatchNorm3d)

    func forward(_ x: Tensor) -> Tensor {
        switch self {
        case .instance(let norm): norm.forward(x)
        case .batch(let norm): norm.forward(x)
        }
    }
}

/// MONAI's `UnetResBlock`: conv → norm → LeakyReLU → conv → norm, plus the
/// input (through a 1×1×1 conv and norm when the channels or stride change),
/// then LeakyReLU. Convolutions have no bias (`conv1.conv`, `conv2.conv`, `conv3.conv`).
public struct UnetResBlock: Sendable {
    public var conv1: Conv3d
    public var norm1: BlockNorm
    public var conv2: Conv3d
    public var norm2: BlockNorm
    /// `conv3` and `norm3`, present when the block changes channels or stride.
    public var downsample: (conv: Conv3d, norm: BlockNorm)?

    public init(conv1: Conv3d, norm1: BlockNorm, conv2: Conv3d, norm2: BlockNorm, downsample: (conv: Conv3d, norm: BlockNorm)?) {
        self.conv1 = conv1
        self.norm1 = norm1
        self.conv2 = conv2
        self.norm2 = norm2
        self.downsample = downsample
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        var out = LeakyReLU.forward(norm1.forward(try conv1.forward(x)))
        out = norm2.forward(try conv2.forward(out))
        var residual = x
        if let (conv, norm) = downsample { residual = norm.forward(try conv.forward(x)) }
        guard residual.shape == out.shape else { throw NeuralEngineError("residual \(residual.shape) does not match \(out.shape)") }
        for i in out.values.indices { out.values[i] += residual.values[i] }
        return LeakyReLU.forward(out)
    }
}

/// MONAI's `UnetBasicBlock`: (conv → norm → LeakyReLU) twice.
public struct UnetBasicBlock: Sendable {
    public var conv1: Conv3d
    public var norm1: BlockNorm
    public var conv2: Conv3d
    public var norm2: BlockNorm

    public init(conv1: Conv3d, norm1: BlockNorm, conv2: Conv3d, norm2: BlockNorm) {
        self.conv1 = conv1
        self.norm1 = norm1
        self.conv2 = conv2
        self.norm2 = norm2
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        let first = LeakyReLU.forward(norm1.forward(try conv1.forward(x)))
        return LeakyReLU.forward(norm2.forward(try conv2.forward(first)))
    }
}
