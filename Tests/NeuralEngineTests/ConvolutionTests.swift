import Testing

@testable import NeuralEngine

/// Conv3d's banded im2col and its concatenation-free input against a direct
/// sum over the kernel: shapes the PyTorch fixtures are too small to reach
/// (several bands of output rows per slice, split among workers).
@Suite("Conv3d against a direct convolution")
struct ConvolutionTests {
    /// A deterministic, non-trivial tensor.
    static func tensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        return Tensor(shape: shape, values: values)
    }

    /// out[n, o, z, y, x] = b[o] + Σ W[o, c, i, j, l] · in[n, c, z·s − p + i, y·s − p + j, x·s − p + l].
    static func direct(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (batch, channels, depth, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let outputs = weight.shape[0], k = weight.shape[2]
        let od = (depth + 2 * padding - k) / stride + 1, oh = (height + 2 * padding - k) / stride + 1,
            ow = (width + 2 * padding - k) / stride + 1
        var out = [Float](repeating: 0, count: batch * outputs * od * oh * ow)
        for n in 0..<batch {
            for o in 0..<outputs {
                for z in 0..<od {
                    for y in 0..<oh {
                        for xx in 0..<ow {
                            var sum: Double = Double(bias?.values[o] ?? 0)
                            for c in 0..<channels {
                                for i in 0..<k {
                                    let iz = z * stride - padding + i
                                    guard iz >= 0, iz < depth else { continue }
                                    for j in 0..<k {
                                        let iy = y * stride - padding + j
                                        guard iy >= 0, iy < height else { continue }
                                        for l in 0..<k {
                                            let ix = xx * stride - padding + l
                                            guard ix >= 0, ix < width else { continue }
                                            let w = weight.values[(((o * channels + c) * k + i) * k + j) * k + l]
                                            sum +=
                                                Double(w) * Double(x.values[(((n * channels + c) * depth + iz) * height + iy) * width + ix])
                                        }
                                    }
                                }
                            }
                            out[(((n * outputs + o) * od + z) * oh + y) * ow + xx] = Float(sum)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputs, od, oh, ow], values: out)
    }

    @Test("several bands of rows per slice, padding 1, with bias", arguments: [1, 2])
    func banded(stride: Int) throws {
        // patch = 3 · 27 = 81 and 300 output columns: 43 rows per band, so 100 rows make three bands.
        let x = Self.tensor([1, 3, 4, 100, 300], seed: 1)
        let weight = Self.tensor([4, 3, 3, 3, 3], seed: 2), bias = Self.tensor([4], seed: 3)
        let ours = try Conv3d(weight: weight, bias: bias, stride: stride, padding: 1).forward(x)
        let reference = Self.direct(x, weight: weight, bias: bias, stride: stride, padding: 1)
        #expect(ours.shape == reference.shape)
        #expect(ours.maximumDifference(from: reference) < 1e-4)
    }

    @Test("the concatenation of two inputs is read where it lies, for 3³ and 1³ kernels", arguments: [3, 1])
    func concatenation(kernel: Int) throws {
        let a = Self.tensor([2, 2, 5, 6, 7], seed: 4), b = Self.tensor([2, 3, 5, 6, 7], seed: 5)
        var joined = [Float]()
        for n in 0..<2 {
            joined += a.values[(n * 2 * 210)..<((n + 1) * 2 * 210)]
            joined += b.values[(n * 3 * 210)..<((n + 1) * 3 * 210)]
        }
        let concatenated = Tensor(shape: [2, 5, 5, 6, 7], values: joined)
        for bias in [nil, Self.tensor([3], seed: 7)] {
            let convolution = Conv3d(weight: Self.tensor([3, 5, kernel, kernel, kernel], seed: 6), bias: bias, padding: kernel / 2)
            let parts = try convolution.forward(concatenating: [a, b])
            let whole = try convolution.forward(concatenated)
            #expect(parts.shape == whole.shape)
            #expect(parts.maximumDifference(from: whole) < 1e-5)
            let reference = Self.direct(concatenated, weight: convolution.weight, bias: bias, stride: 1, padding: kernel / 2)
            #expect(whole.maximumDifference(from: reference) < 1e-4)
        }
        #expect(throws: NeuralEngineError.self) {
            try Conv3d(weight: Self.tensor([3, 4, 3, 3, 3], seed: 8), bias: nil).forward(concatenating: [a, b])
        }
    }

    @Test("rolling convolutions leave the same outputs in their inputs' place, and a caller's own copy untouched")
    func rolling() throws {
        let up = Self.tensor([2, 3, 7, 9, 11], seed: 10), skip = Self.tensor([2, 3, 7, 9, 11], seed: 11)
        let conv1 = Conv3d(weight: Self.tensor([3, 6, 3, 3, 3], seed: 12), bias: Self.tensor([3], seed: 13), padding: 1)
        let conv3 = Conv3d(weight: Self.tensor([3, 6, 1, 1, 1], seed: 14), bias: nil)
        let expected1 = try conv1.forward(concatenating: [up, skip]), expected3 = try conv3.forward(concatenating: [up, skip])
        var parts = [up, skip]
        #expect(RollingConvolution.fits([conv1, conv3], parts: parts, targets: [0, 1]))
        RollingConvolution.run([conv1, conv3], over: &parts, into: [0, 1])
        #expect(parts[0].maximumDifference(from: expected1) < 1e-5 && parts[1].maximumDifference(from: expected3) < 1e-5)
        #expect(
            up == Self.tensor([2, 3, 7, 9, 11], seed: 10) && skip == Self.tensor([2, 3, 7, 9, 11], seed: 11),
            "the caller's tensors are copied, not overwritten")

        // In place over one tensor, kernel 5 (two slices of lag), every slice count from 3 up.
        for depth in [3, 4, 9] {
            var x = Self.tensor([1, 4, depth, 6, 5], seed: UInt64(20 + depth))
            let conv = Conv3d(weight: Self.tensor([4, 4, 5, 5, 5], seed: 30), bias: nil, padding: 2)
            let expected = try conv.forward(x)
            try conv.forward(inPlaceOf: &x)
            #expect(x.shape == expected.shape && x.maximumDifference(from: expected) < 1e-5, "depth \(depth)")
        }

        // What does not fit keeps to the ordinary path.
        #expect(
            !RollingConvolution.fits(
                [Conv3d(weight: Self.tensor([3, 6, 3, 3, 3], seed: 12), bias: nil, stride: 2, padding: 1)], parts: [up, skip], targets: [0])
        )
        #expect(
            !RollingConvolution.fits([conv1], parts: [Self.tensor([2, 6, 7, 9, 11], seed: 15)], targets: [0]),
            "6 input channels cannot hold 3 outputs")
        var changing = Self.tensor([1, 2, 4, 4, 4], seed: 16)
        let widening = Conv3d(weight: Self.tensor([5, 2, 3, 3, 3], seed: 17), bias: nil, padding: 1)
        let widened = try widening.forward(changing)
        try widening.forward(inPlaceOf: &changing)
        #expect(changing == widened)
    }
}
