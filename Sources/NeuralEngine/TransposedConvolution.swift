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
        let voxels = depth * height * width, block = k * k * k
        var products = [Float](repeating: 0, count: outputs * block * voxels)
        var output = [Float](repeating: 0, count: batch * outputs * voxels * block)
        let (outDepth, outHeight, outWidth) = (depth * k, height * k, width * k)
        for n in 0..<batch {
            // products[(o, a, b, c), v] = Σ_ci W[ci, (o, a, b, c)] · x[ci, v]
            x.values.withUnsafeBufferPointer { input in
                cblas_sgemm(
                    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs * block), Int32(voxels), Int32(channels), 1, weight.values,
                    Int32(outputs * block), input.baseAddress! + n * channels * voxels, Int32(voxels), 0, &products, Int32(voxels))
            }
            for o in 0..<outputs {
                let b = bias?.values[o] ?? 0
                let outBase = (n * outputs + o) * outDepth * outHeight * outWidth
                for a in 0..<k {
                    for bb in 0..<k {
                        for c in 0..<k {
                            let row = ((o * k + a) * k + bb) * k + c
                            var v = 0
                            for z in 0..<depth {
                                for y in 0..<height {
                                    let target = outBase + ((z * k + a) * outHeight + y * k + bb) * outWidth + c
                                    for xIndex in 0..<width {
                                        output[target + xIndex * k] = products[row * voxels + v] + b
                                        v += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputs, outDepth, outHeight, outWidth], values: output)
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

    public func forward(_ x: Tensor) -> Tensor {
        let channels = x.shape[1], voxels = x.shape[2...].reduce(1, *)
        var y = x.values
        for block in 0..<(x.count / voxels) {
            let c = block % channels
            let scale = weight.values[c] / (runningVariance.values[c] + epsilon).squareRoot()
            let shift = bias.values[c] - runningMean.values[c] * scale
            for i in block * voxels..<(block + 1) * voxels { y[i] = x.values[i] * scale + shift }
        }
        return Tensor(shape: x.shape, values: y)
    }
}
