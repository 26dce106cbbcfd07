import CBLAS
import Dispatch

/// `torch.nn.Conv3d` (cubic kernel, same stride and padding on every axis):
/// input [N, C, D, H, W], weight [out, C, k, k, k]. Computed one output depth
/// slice at a time (im2col of one slice, then sgemm), so memory stays
/// bounded by a slice's columns, never a whole volume's.
public struct Conv3d: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var stride: Int
    public var padding: Int

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
    }

    public func forward(_ x: Tensor) throws(NeuralEngineError) -> Tensor {
        guard x.shape.count == 5, weight.shape.count == 5, x.shape[1] == weight.shape[1] else {
            throw NeuralEngineError("Conv3d weight \(weight.shape) does not fit input \(x.shape)")
        }
        let (batch, channels, depth, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let outputs = weight.shape[0], k = weight.shape[2]
        let outDepth = (depth + 2 * padding - k) / stride + 1
        let outHeight = (height + 2 * padding - k) / stride + 1
        let outWidth = (width + 2 * padding - k) / stride + 1
        guard outDepth > 0, outHeight > 0, outWidth > 0 else { throw NeuralEngineError("Conv3d kernel \(k) larger than input \(x.shape)") }
        if k == 1, stride == 1, padding == 0 { return pointwise(x) }
        let plane = outHeight * outWidth
        let patch = channels * k * k * k
        var output = [Float](repeating: 0, count: batch * outputs * outDepth * plane)
        let stride = stride, padding = padding
        // Output slices are shared out among as many workers as OpenBLAS has
        // threads, each with its own columns and single-threaded products:
        // one slice's product is too small for OpenBLAS to split well, and
        // the im2col runs in parallel too.
        let threads = max(1, Int(openblas_get_num_threads()))
        let workers = min(threads, batch * outDepth)
        if workers > 1 { openblas_set_num_threads(1) }
        defer { if workers > 1 { openblas_set_num_threads(Int32(threads)) } }
        x.values.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                // Workers read the input and write disjoint slices of the output.
                let sharedInput = SharedPointer(UnsafeMutablePointer(mutating: inputBuffer.baseAddress!))
                let sharedResult = SharedPointer(outputBuffer.baseAddress!)
                let weights = weight.values, biases = bias?.values
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let input = UnsafePointer(sharedInput.base), result = sharedResult.base
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: patch * plane)
                    let slice = UnsafeMutablePointer<Float>.allocate(capacity: outputs * plane)
                    defer {
                        columns.deallocate()
                        slice.deallocate()
                    }
                    let total = batch * outDepth
                    for job in (total * worker / workers)..<(total * (worker + 1) / workers) {
                        let n = job / outDepth, z = job % outDepth
                        let inputBase = n * channels * depth * height * width
                        // im2col of one output slice: rows (c, kz, ky, kx), columns (y, x).
                        for c in 0..<channels {
                            for kz in 0..<k {
                                let iz = z * stride - padding + kz
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let row = ((c * k + kz) * k + ky) * k + kx
                                        let target = columns + row * plane
                                        guard iz >= 0, iz < depth else {
                                            target.update(repeating: 0, count: plane)
                                            continue
                                        }
                                        let channel = input + inputBase + (c * depth + iz) * height * width
                                        // Output columns whose input column lies inside the image.
                                        let first = max(0, (padding - kx + stride - 1) / stride)
                                        let last = min(outWidth, (width - 1 + padding - kx) / stride + 1)
                                        for y in 0..<outHeight {
                                            let line = target + y * outWidth
                                            let iy = y * stride - padding + ky
                                            guard iy >= 0, iy < height, first < last else {
                                                line.update(repeating: 0, count: outWidth)
                                                continue
                                            }
                                            if first > 0 { line.update(repeating: 0, count: first) }
                                            if last < outWidth { (line + last).update(repeating: 0, count: outWidth - last) }
                                            let source = channel + iy * width + first * stride - padding + kx
                                            if stride == 1 {
                                                (line + first).update(from: source, count: last - first)
                                            } else {
                                                for xIndex in 0..<(last - first) { line[first + xIndex] = source[xIndex * stride] }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputs), Int32(plane), Int32(patch), 1, weights,
                            Int32(patch), columns, Int32(plane), 0, slice, Int32(plane))
                        for o in 0..<outputs {
                            let b = biases?[o] ?? 0
                            let target = result + ((n * outputs + o) * outDepth + z) * plane
                            let source = slice + o * plane
                            for p in 0..<plane { target[p] = source[p] + b }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputs, outDepth, outHeight, outWidth], values: output)
    }
}

/// A pointer handed to parallel workers that touch disjoint parts of its memory.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

extension Conv3d {
    /// A 1×1×1 convolution is one product per sample, weight [out, C] × input [C, voxels], with no im2col.
    func pointwise(_ x: Tensor) -> Tensor {
        let batch = x.shape[0], channels = x.shape[1], outputs = weight.shape[0]
        let voxels = x.shape[2...].reduce(1, *)
        var output = [Float](repeating: 0, count: batch * outputs * voxels)
        if let bias {
            for block in 0..<batch * outputs {
                let b = bias.values[block % outputs]
                for i in block * voxels..<(block + 1) * voxels { output[i] = b }
            }
        }
        x.values.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { result in
                for n in 0..<batch {
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputs), Int32(voxels), Int32(channels), 1, weight.values,
                        Int32(channels), input.baseAddress! + n * channels * voxels, Int32(voxels), bias == nil ? 0 : 1,
                        result.baseAddress! + n * outputs * voxels, Int32(voxels))
                }
            }
        }
        return Tensor(shape: [batch, outputs] + Array(x.shape[2...]), values: output)
    }
}

/// `torch.nn.InstanceNorm3d`: each channel of each sample normalised over
/// its voxels (biased variance, eps 1e-5), with an optional affine.
public struct InstanceNorm3d: Sendable {
    public var weight: Tensor?
    public var bias: Tensor?
    public var epsilon: Float = 1e-5

    public init(weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) {
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    public func forward(_ x: Tensor) -> Tensor {
        let channels = x.shape[1], voxels = x.shape[2...].reduce(1, *)
        var y = x.values
        for block in 0..<(x.count / voxels) {
            let channel = block % channels, start = block * voxels
            var mean: Double = 0
            for i in start..<start + voxels { mean += Double(x.values[i]) }
            mean /= Double(voxels)
            var variance: Double = 0
            for i in start..<start + voxels { variance += (Double(x.values[i]) - mean) * (Double(x.values[i]) - mean) }
            variance /= Double(voxels)
            let scale = 1 / (variance + Double(epsilon)).squareRoot()
            let gamma = weight?.values[channel] ?? 1, beta = bias?.values[channel] ?? 0
            for i in start..<start + voxels { y[i] = Float((Double(x.values[i]) - mean) * scale) * gamma + beta }
        }
        return Tensor(shape: x.shape, values: y)
    }
}
