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
                let (mean, scale) = Normalization.statistics(values, span, epsilon: epsilon)
                for member in 0..<perGroup {
                    let channel = group * perGroup + member
                    Normalization.apply(
                        values + member * voxels, voxels, mean: mean, scale: scale * (gammas?[channel] ?? 1), shift: betas?[channel] ?? 0,
                        slope: leakySlope)
                }
            }
        }
    }
}

/// The passes instance and group norm share.
enum Normalization {
    /// Mean and 1 / √(biased variance + ε) of `count` values: float sums of
    /// 4096-value chunks, added up in double (exact enough, and vectorised).
    static func statistics(_ values: UnsafeMutablePointer<Float>, _ count: Int, epsilon: Double) -> (mean: Float, scale: Float) {
        func sum(_ term: (Float) -> Float) -> Double {
            var total: Double = 0
            for start in stride(from: 0, to: count, by: 4096) {
                var partial: Float = 0
                for i in start..<min(count, start + 4096) { partial += term(values[i]) }
                total += Double(partial)
            }
            return total
        }
        let mean = Float(sum { $0 } / Double(count))
        let squares = sum { ($0 - mean) * ($0 - mean) }
        return (mean, Float(1 / (squares / Double(count) + epsilon).squareRoot()))
    }

    /// values ← (values − mean) · scale + shift, then LeakyReLU with `slope` if given.
    static func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int, mean: Float, scale: Float, shift: Float, slope: Float?) {
        if let slope {
            for i in 0..<count {
                let v = (values[i] - mean) * scale + shift
                values[i] = v >= 0 ? v : v * slope
            }
        } else {
            for i in 0..<count { values[i] = (values[i] - mean) * scale + shift }
        }
    }
}
