/// The normalisation of a MONAI U-Net block: `norm_name` "instance"
/// (InstanceNorm3d, without affine by MONAI's default), "batch" (eval) or "group".
public enum BlockNorm: Sendable {
    case instance(InstanceNorm3d)
    case batch(BatchNorm3d)
    case group(GroupNorm3d)

    func forward(_ x: consuming Tensor) -> Tensor {
        var y = x
        apply(to: &y)
        return y
    }

    /// Normalises in place, then LeakyReLU (MONAI's slope) when `activation`.
    func apply(to x: inout Tensor, activation: Bool = false) {
        apply(to: &x, leakySlope: activation ? LeakyReLU.monaiSlope : nil)
    }

    /// Normalises in place, then LeakyReLU with `leakySlope` (0: ReLU) if given.
    func apply(to x: inout Tensor, leakySlope slope: Float?) {
        switch self {
        case .instance(let norm): norm.apply(to: &x, leakySlope: slope)
        case .batch(let norm): norm.apply(to: &x, leakySlope: slope)
        case .group(let norm): norm.apply(to: &x, leakySlope: slope)
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
        try forward(concatenating: [x])
    }

    /// The block on the channel concatenation of `parts`, which it releases as
    /// soon as both convolutions that read them are done.
    public func forward(concatenating parts: consuming [Tensor]) throws(NeuralEngineError) -> Tensor {
        var residual: Tensor, out: Tensor
        if let (conv3, norm3) = downsample, RollingConvolution.fits([conv1, conv3], parts: parts, targets: [0, 1]) {
            // A decoder's [up-sampled, skip]: conv1's output replaces the first, conv3's the second.
            RollingConvolution.run([conv1, conv3], over: &parts, into: [0, 1])
            out = parts[0]
            residual = parts[1]
            parts = []
            norm3.apply(to: &residual)
        } else {
            if let (conv3, norm3) = downsample {
                residual = try conv3.forward(concatenating: parts)
                norm3.apply(to: &residual)
            } else {
                guard parts.count == 1 else {
                    throw NeuralEngineError("a residual block without conv3 takes one input, not \(parts.count)")
                }
                residual = parts[0]
            }
            out = try conv1.forward(concatenating: parts)
            parts = []
        }
        norm1.apply(to: &out, activation: true)
        try conv2.forward(inPlaceOf: &out)
        norm2.apply(to: &out)
        guard residual.shape == out.shape else { throw NeuralEngineError("residual \(residual.shape) does not match \(out.shape)") }
        let slope = LeakyReLU.monaiSlope
        out.values.withUnsafeMutableBufferPointer { values in
            residual.values.withUnsafeBufferPointer { residual in
                for i in values.indices {
                    let v = values[i] + residual[i]
                    values[i] = v >= 0 ? v : v * slope
                }
            }
        }
        return out
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
        try forward(concatenating: [x])
    }

    /// The block on the channel concatenation of `parts`.
    public func forward(concatenating parts: consuming [Tensor]) throws(NeuralEngineError) -> Tensor {
        var out: Tensor
        if RollingConvolution.fits([conv1], parts: parts, targets: [0]) {
            RollingConvolution.run([conv1], over: &parts, into: [0])
            out = parts[0]
        } else {
            out = try conv1.forward(concatenating: parts)
        }
        parts = []
        norm1.apply(to: &out, activation: true)
        try conv2.forward(inPlaceOf: &out)
        norm2.apply(to: &out, activation: true)
        return out
    }
}
