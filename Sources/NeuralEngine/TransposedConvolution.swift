import CBLAS

/// `torch.nn.ConvTranspose3d` with kernel = stride (2 in UNETR's up-blocks):
/// every input voxel spreads to its own k³ block of the output, so the layer
/// is one sgemm of the weight [C, out·k³]ᵀ with the input [C, D·H·W], then a scatter.
public struct ConvTranspose3d: Sendable {
    /// [C_in, C_out, k, k, k], as PyTorch stores it.
    public var weight: Tensor
    public var bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        guard x.shape.count == 5, weight.shape.count == 5, x.shape[1] == weight.shape[0] else {
            throw NeuralEngineError("ConvTranspose3d weight \(weight.shape) does not fit input \(x.shape)")
        }
        let (batch, channels, depth, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let outputs = weight.shape[1], k = weight.shape[2]
        let voxels = depth * height * width, block = k * k * k, plane = height * width
        let (outDepth, outHeight, outWidth) = (depth * k, height * k, width * k)
        let rows = outputs * block
        // One input slice at a time: its products are a slice's worth, not the whole output's.
        let products = UnsafeMutablePointer<Float>.allocate(capacity: rows * plane)
        defer { products.deallocate() }
        return Tensor(shape: [batch, outputs, outDepth, outHeight, outWidth]) { output in
            x.values.withUnsafeBufferPointer { input in
                for n in 0..<batch {
                    for z in 0..<depth {
                        // products[(o, a, b, c), (y, x)] = Σ_ci W[ci, (o, a, b, c)] · x[ci, z, y, x]
                        cblas_sgemm(
                            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(plane), Int32(channels), 1, weight.values,
                            Int32(rows), input.baseAddress! + n * channels * voxels + z * plane, Int32(voxels), 0, products, Int32(plane))
                        for o in 0..<outputs {
                            let b = bias?.values[o] ?? 0
                            let outBase = output + (n * outputs + o) * outDepth * outHeight * outWidth
                            for a in 0..<k {
                                for bb in 0..<k {
                                    for c in 0..<k {
                                        let source = products + (((o * k + a) * k + bb) * k + c) * plane
                                        for y in 0..<height {
                                            let target = outBase + ((z * k + a) * outHeight + y * k + bb) * outWidth + c
                                            let line = source + y * width
                                            for xIndex in 0..<width { target[xIndex * k] = line[xIndex] + b }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `torch.nn.BatchNorm3d` in evaluation mode: running mean and variance.
public struct BatchNorm3d: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVariance: Tensor
    public var epsilon: Float = 1e-5

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVariance: Tensor, epsilon: Float = 1e-5) {
        self.weight = weight
        self.bias = bias
        self.runningMean = runningMean
        self.runningVariance = runningVariance
        self.epsilon = epsilon
    }

    public func forward(_ x: consuming Tensor) -> Tensor {
        var y = x
        apply(to: &y)
        return y
    }

    /// Normalises `x` in place, then applies LeakyReLU with `leakySlope` if given.
    public func apply(to x: inout Tensor, leakySlope: Float? = nil) {
        let channels = x.shape[1], voxels = x.shape[2...].reduce(1, *)
        guard voxels > 0 else { return }
        x.values.withUnsafeMutableBufferPointer { buffer in
            for block in 0..<(buffer.count / voxels) {
                let c = block % channels, values = buffer.baseAddress! + block * voxels
                let scale = weight.values[c] / (runningVariance.values[c] + epsilon).squareRoot()
                Normalization.apply(
                    values, voxels, mean: runningMean.values[c], scale: scale, shift: bias.values[c], slope: leakySlope)
            }
        }
    }
}
