/// MONAI's `MLPBlock`: Linear(hidden → mlp), exact GELU, Linear(mlp → hidden).
public struct MLPBlock: Sendable {
    public var linear1: Linear
    public var linear2: Linear

    public init(linear1: Linear, linear2: Linear) {
        self.linear1 = linear1
        self.linear2 = linear2
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        try linear2.forward(GELU.forward(try linear1.forward(x)))
    }
}

/// MONAI's `PatchEmbeddingBlock` (3D): the image [B, C, X, Y, Z] cut into
/// patches, each projected to `hidden` features, plus the learned position
/// embedding. Tokens come in (x, y, z) patch order.
public struct PatchEmbedding: Sendable {
    public enum Projection: Sendable {
        /// `proj_type="perceptron"`: patch voxels ordered (p1 p2 p3 c), then Linear (`patch_embeddings.1`).
        case perceptron(Linear)
        /// `proj_type="conv"`: Conv3d with kernel = stride = patch (`patch_embeddings`).
        case convolution(Conv3d)
    }

    public var projection: Projection
    /// Patch size along each spatial axis.
    public var patch: Int
    /// `position_embeddings` [1, patches, hidden].
    public var positionEmbeddings: Tensor

    public init(projection: Projection, patch: Int, positionEmbeddings: Tensor) {
        self.projection = projection
        self.patch = patch
        self.positionEmbeddings = positionEmbeddings
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        guard x.shape.count == 5, x.shape[2...].allSatisfy({ $0 % patch == 0 }) else {
            throw NeuralEngineError("patch embedding takes [B, C, X, Y, Z] with sides divisible by \(patch), got \(x.shape)")
        }
        let (batch, channels) = (x.shape[0], x.shape[1])
        let grid = (x.shape[2] / patch, x.shape[3] / patch, x.shape[4] / patch)
        let tokens = grid.0 * grid.1 * grid.2
        var embedded: Tensor
        switch projection {
        case .convolution(let convolution):
            let features = try convolution.forward(x)  // [B, hidden, gx, gy, gz]
            let hidden = features.shape[1]
            var values = [Float](repeating: 0, count: batch * tokens * hidden)
            for b in 0..<batch {
                for h in 0..<hidden {
                    for t in 0..<tokens { values[(b * tokens + t) * hidden + h] = features.values[(b * hidden + h) * tokens + t] }
                }
            }
            embedded = Tensor(shape: [batch, tokens, hidden], values: values)
        case .perceptron(let linear):
            let width = patch * patch * patch * channels
            var patches = [Float](repeating: 0, count: batch * tokens * width)
            let (sx, sy, sz) = (x.shape[2], x.shape[3], x.shape[4])
            var out = 0
            for b in 0..<batch {
                for gx in 0..<grid.0 {
                    for gy in 0..<grid.1 {
                        for gz in 0..<grid.2 {
                            for p1 in 0..<patch {
                                for p2 in 0..<patch {
                                    for p3 in 0..<patch {
                                        for c in 0..<channels {
                                            let ix = gx * patch + p1, iy = gy * patch + p2, iz = gz * patch + p3
                                            patches[out] = x.values[(((b * channels + c) * sx + ix) * sy + iy) * sz + iz]
                                            out += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            embedded = try linear.forward(Tensor(shape: [batch, tokens, width], values: patches))
        }
        guard positionEmbeddings.count == tokens * embedded.shape[2] else {
            throw NeuralEngineError(
                "position embeddings \(positionEmbeddings.shape) do not fit \(tokens) tokens of \(embedded.shape[2]) features")
        }
        for b in 0..<batch {
            let base = b * positionEmbeddings.count
            for i in 0..<positionEmbeddings.count { embedded.values[base + i] += positionEmbeddings.values[i] }
        }
        return embedded
    }
}

/// MONAI's `TransformerBlock` (no cross-attention): x + attn(norm1(x)), then + mlp(norm2(x)).
public struct TransformerBlock: Sendable {
    public var norm1: LayerNorm
    public var attention: SelfAttention
    public var norm2: LayerNorm
    public var mlp: MLPBlock

    public init(norm1: LayerNorm, attention: SelfAttention, norm2: LayerNorm, mlp: MLPBlock) {
        self.norm1 = norm1
        self.attention = attention
        self.norm2 = norm2
        self.mlp = mlp
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        var y = x
        let attended = try attention.forward(norm1.forward(x))
        for i in y.values.indices { y.values[i] += attended.values[i] }
        let mixed = try mlp.forward(norm2.forward(y))
        for i in y.values.indices { y.values[i] += mixed.values[i] }
        return y
    }
}
