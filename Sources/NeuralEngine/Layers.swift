import CBLAS
import Foundation

/// `torch.nn.Linear`: y = x·Wᵀ + b over the last dimension. Weight [out, in].
public struct Linear: Sendable {
    public var weight: Tensor
    public var bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        let outputs = weight.shape[0], inputs = weight.shape[1]
        guard x.shape.last == inputs else { throw NeuralEngineError("Linear takes \(inputs) features, got shape \(x.shape)") }
        let rows = x.count / inputs
        var y = [Float](repeating: 0, count: rows * outputs)
        if let bias {
            for row in 0..<rows { y.replaceSubrange(row * outputs..<(row + 1) * outputs, with: bias.values) }
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1, x.values, Int32(inputs),
            weight.values, Int32(inputs), bias == nil ? 0 : 1, &y, Int32(outputs))
        return Tensor(shape: Array(x.shape.dropLast()) + [outputs], values: y)
    }
}

/// `torch.nn.LayerNorm` over the last dimension (biased variance, eps 1e-5).
public struct LayerNorm: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var epsilon: Float = 1e-5

    public init(weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) {
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    public func forward(_ x: Tensor) -> Tensor {
        let width = weight.count
        var y = x.values
        for start in stride(from: 0, to: x.count, by: width) {
            var mean: Double = 0
            for i in start..<start + width { mean += Double(x.values[i]) }
            mean /= Double(width)
            var variance: Double = 0
            for i in start..<start + width { variance += (Double(x.values[i]) - mean) * (Double(x.values[i]) - mean) }
            variance /= Double(width)
            let scale = 1 / (variance + Double(epsilon)).squareRoot()
            for i in 0..<width {
                y[start + i] = Float((Double(x.values[start + i]) - mean) * scale) * weight.values[i] + bias.values[i]
            }
        }
        return Tensor(shape: x.shape, values: y)
    }
}

/// Exact GELU (`torch.nn.GELU()`, erf form).
public enum GELU {
    public static func forward(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, values: x.values.map { 0.5 * $0 * (1 + erff($0 / 2.0.squareRoot().float)) })
    }
}

/// `torch.nn.LeakyReLU`, slope 0.01 by default (MONAI's UNETR blocks).
public enum LeakyReLU {
    /// The negative slope of MONAI's U-Net blocks (`("leakyrelu", {"negative_slope": 0.01})`).
    public static let monaiSlope: Float = 0.01

    public static func forward(_ x: consuming Tensor, slope: Float = monaiSlope) -> Tensor {
        var y = x
        y.values.withUnsafeMutableBufferPointer { values in
            for i in values.indices where values[i] < 0 { values[i] *= slope }
        }
        return y
    }
}

extension Double {
    fileprivate var float: Float { Float(self) }
}
