/// `torch.nn.GroupNorm`: the channels of each sample split into `groups`
/// consecutive groups, each normalised over its channels and voxels (biased
/// variance), then a per-channel affine.
public struct GroupNorm3d: Sendable {
    public var groups: Int
    public var weight: Tensor?
    public var bias: Tensor?
    public var epsilon: Float = 1e-5

    public init(groups: Int, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) {
        self.groups = groups
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    public func forward(_ x: consuming Tensor) -> Tensor {
        var y = x
        apply(to: &y)
        return y
    }

    /// Normalises `x` in place, then applies LeakyReLU with `leakySlope`, or ReLU with 0, if given.
    /// The channels must split into the groups (checked when the layer is loaded).
    public func apply(to x: inout Tensor, leakySlope: Float? = nil) {
        let channels = x.shape[1], voxels = x.shape[2...].reduce(1, *)
        precondition(channels % groups == 0, "\(channels) channels do not split into \(groups) groups")
        let perGroup = channels / groups, span = perGroup * voxels, blocks = x.count / max(1, span)
        guard span > 0 else { return }
        let epsilon = Double(epsilon), gammas = weight?.values, betas = bias?.values
        x.values.withUnsafeMutableBufferPointer { buffer in
            for block in 0..<blocks {
                let values = buffer.baseAddress! + block * span, group = block % groups
                func sum(_ term: (Float) -> Float) -> Double {
                    var total: Double = 0
                    for start in stride(from: 0, to: span, by: 4096) {
                        var partial: Float = 0
                        for i in start..<min(span, start + 4096) { partial += term(values[i]) }
                        total += Double(partial)
                    }
                    return total
                }
                let mean = Float(sum { $0 } / Double(span))
                let squares = sum { ($0 - mean) * ($0 - mean) }
                let scale = Float(1 / (squares / Double(span) + epsilon).squareRoot())
                for member in 0..<perGroup {
                    let channel = group * perGroup + member, start = values + member * voxels
                    let a = scale * (gammas?[channel] ?? 1), beta = betas?[channel] ?? 0
                    if let slope = leakySlope {
                        for i in 0..<voxels {
                            let v = (start[i] - mean) * a + beta
                            start[i] = v >= 0 ? v : v * slope
                        }
                    } else {
                        for i in 0..<voxels { start[i] = (start[i] - mean) * a + beta }
                    }
                }
            }
        }
    }
}
