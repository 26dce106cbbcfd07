import CBLAS
import Foundation

/// MONAI's `SABlock`: multi-head self-attention over tokens [B, T, hidden].
/// One linear layer makes q, k and v (features ordered qkv, head, d — the
/// `b h (qkv l d)` rearrangement), scaled dot-product attention per head with
/// a row softmax, heads concatenated (`b h (l d)`), then the output projection.
public struct SelfAttention: Sendable {
    public var heads: Int
    /// `qkv.weight` [3·inner, hidden] and `qkv.bias` (absent by default: qkv_bias false).
    public var qkv: Linear
    /// `out_proj.weight` [hidden, inner] and `out_proj.bias`.
    public var outputProjection: Linear

    public init(heads: Int, qkv: Linear, outputProjection: Linear) {
        self.heads = heads
        self.qkv = qkv
        self.outputProjection = outputProjection
    }

    /// `addingToScores`, when given, adds to the scaled scores of each batch item and head
    /// ([tokens, tokens], row-major) before the softmax: Swin's relative position bias and window mask.
    public func forward(
        _ x: Tensor, addingToScores add: ((_ batch: Int, _ head: Int, _ scores: inout [Float]) -> Void)? = nil
    ) throws(NeuralEngineError) -> Tensor {
        guard x.shape.count == 3 else { throw NeuralEngineError("self-attention takes [batch, tokens, features], got \(x.shape)") }
        let batch = x.shape[0], tokens = x.shape[1]
        let projected = try qkv.forward(x)
        let inner = projected.shape[2] / 3
        guard inner % heads == 0 else { throw NeuralEngineError("\(inner) features do not split into \(heads) heads") }
        let headWidth = inner / heads
        let scale = 1 / Float(headWidth).squareRoot()
        let rowStride = 3 * inner
        var attended = [Float](repeating: 0, count: batch * tokens * inner)
        var scores = [Float](repeating: 0, count: tokens * tokens)
        projected.values.withUnsafeBufferPointer { qkvBuffer in
            attended.withUnsafeMutableBufferPointer { output in
                for b in 0..<batch {
                    let base = qkvBuffer.baseAddress! + b * tokens * rowStride
                    for h in 0..<heads {
                        let q = base + h * headWidth, k = base + inner + h * headWidth, v = base + 2 * inner + h * headWidth
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(tokens), Int32(headWidth), scale, q,
                            Int32(rowStride),
                            k, Int32(rowStride), 0, &scores, Int32(tokens))
                        add?(b, h, &scores)
                        Self.softmaxRows(&scores, rows: tokens, columns: tokens)
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(tokens), Int32(headWidth), Int32(tokens), 1, scores,
                            Int32(tokens),
                            v, Int32(rowStride), 0, output.baseAddress! + b * tokens * inner + h * headWidth, Int32(inner))
                    }
                }
            }
        }
        return try outputProjection.forward(Tensor(shape: [batch, tokens, inner], values: attended))
    }

    /// The softmax of each row of a row-major matrix, in place (the largest value subtracted first).
    private static func softmaxRows(_ scores: inout [Float], rows: Int, columns: Int) {
        for row in 0..<rows {
            let start = row * columns
            var largest = -Float.infinity
            for i in start..<start + columns { largest = max(largest, scores[i]) }
            var sum: Float = 0
            for i in start..<start + columns {
                scores[i] = expf(scores[i] - largest)
                sum += scores[i]
            }
            for i in start..<start + columns { scores[i] /= sum }
        }
    }
}
