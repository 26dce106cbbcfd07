import CBLAS
import Dispatch

/// `torch.nn.Conv3d` (cubic kernel, same stride and padding on every axis):
/// input [N, C, D, H, W], weight [out, C, k, k, k]. Computed a band of output
/// rows of one depth slice at a time (im2col of the band, then sgemm), so
/// memory stays bounded by a band's columns, never a whole volume's.
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
        try forward(concatenating: [x])
    }

    /// The convolution of the channel concatenation of `parts` (same batch
    /// and spatial size), read where they lie: a U-Net decoder's
    /// concatenation of up-sampled features and skip connection is never
    /// materialised.
    public func forward(concatenating parts: [Tensor]) throws(NeuralEngineError) -> Tensor {
        guard let first = parts.first, first.shape.count == 5, weight.shape.count == 5,
            parts.allSatisfy({ $0.shape.count == 5 && $0.shape[0] == first.shape[0] && $0.shape[2...] == first.shape[2...] })
        else {
            throw NeuralEngineError("Conv3d inputs \(parts.map(\.shape)) are not 5-D tensors of one batch and size")
        }
        let channels = parts.reduce(0) { $0 + $1.shape[1] }
        guard channels == weight.shape[1] else {
            throw NeuralEngineError(
                "Conv3d weight \(weight.shape) does not fit input \(parts.count == 1 ? "\(first.shape)" : "of \(channels) channels, \(parts.map(\.shape))")"
            )
        }
        let (batch, depth, height, width) = (first.shape[0], first.shape[2], first.shape[3], first.shape[4])
        let outputs = weight.shape[0], k = weight.shape[2]
        let outDepth = (depth + 2 * padding - k) / stride + 1
        let outHeight = (height + 2 * padding - k) / stride + 1
        let outWidth = (width + 2 * padding - k) / stride + 1
        guard outDepth > 0, outHeight > 0, outWidth > 0 else {
            throw NeuralEngineError("Conv3d kernel \(k) larger than input \(first.shape)")
        }
        if k == 1, stride == 1, padding == 0 { return pointwise(parts, channels: channels) }
        let plane = outHeight * outWidth
        let geometry = Geometry(channels: channels, depth: depth, height: height, width: width, outHeight: outHeight, outWidth: outWidth)
        let rowsPerBand = geometry.rowsPerBand(kernel: k), bands = (outHeight + rowsPerBand - 1) / rowsPerBand
        // Bands are shared out among as many workers as OpenBLAS has threads,
        // each with its own columns and single-threaded products: one band's
        // product is too small for OpenBLAS to split well, and the im2col runs
        // in parallel too.
        let total = batch * outDepth * bands
        return try withSingleThreadedProducts(jobs: total) { workers in
            withChannelPointers(parts) { channelInputs in
                Tensor(shape: [batch, outputs, outDepth, outHeight, outWidth]) { result in
                    let sharedResult = SharedPointer(result)
                    let sharedInputs = SharedPointer(UnsafeMutablePointer(mutating: channelInputs.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let columns = UnsafeMutablePointer<Float>.allocate(capacity: geometry.columnsCapacity(kernel: k))
                        defer { columns.deallocate() }
                        for job in (total * worker / workers)..<(total * (worker + 1) / workers) {
                            let n = job / (outDepth * bands), z = job / bands % outDepth, firstRow = job % bands * rowsPerBand
                            // Straight into the output: row o of the product is channel o's band of slice z.
                            convolveBand(
                                geometry, inputs: UnsafePointer(sharedInputs.base + n * channels), z: z, firstRow: firstRow,
                                rows: min(rowsPerBand, outHeight - firstRow), columns: columns,
                                target: sharedResult.base + (n * outputs * outDepth + z) * plane, targetRowStride: outDepth * plane)
                        }
                    }
                }
            }
        }
    }

    /// The sizes one convolution call works with.
    struct Geometry {
        var channels, depth, height, width, outHeight, outWidth: Int

        /// Output rows per band: columns of about 4 MiB.
        func rowsPerBand(kernel k: Int) -> Int {
            max(1, min(outHeight, (1 << 20) / max(1, channels * k * k * k * outWidth)))
        }

        func columnsCapacity(kernel k: Int) -> Int { channels * k * k * k * rowsPerBand(kernel: k) * outWidth }
    }

    /// Output slice z, rows firstRow..<firstRow + rows, of every output
    /// channel: im2col of the band, then one product into `target`, whose
    /// channel o starts at `target + o · targetRowStride`. `inputs[c]` is
    /// channel c's volume.
    func convolveBand(
        _ g: Geometry, inputs: UnsafePointer<UnsafeMutablePointer<Float>>, z: Int, firstRow: Int, rows: Int,
        columns: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>, targetRowStride: Int
    ) {
        let k = weight.shape[2], outputs = weight.shape[0], patch = g.channels * k * k * k
        let (depth, height, width, outWidth) = (g.depth, g.height, g.width, g.outWidth)
        let span = rows * outWidth
        // im2col of the band: rows (c, kz, ky, kx), columns (y, x).
        for c in 0..<g.channels {
            for kz in 0..<k {
                let iz = z * stride - padding + kz
                for ky in 0..<k {
                    for kx in 0..<k {
                        let row = ((c * k + kz) * k + ky) * k + kx
                        let line0 = columns + row * span
                        guard iz >= 0, iz < depth else {
                            line0.update(repeating: 0, count: span)
                            continue
                        }
                        let channel = UnsafePointer(inputs[c]) + iz * height * width
                        // Output columns whose input column lies inside the image.
                        let firstColumn = max(0, (padding - kx + stride - 1) / stride)
                        let lastColumn = min(outWidth, (width - 1 + padding - kx) / stride + 1)
                        for r in 0..<rows {
                            let line = line0 + r * outWidth
                            let iy = (firstRow + r) * stride - padding + ky
                            guard iy >= 0, iy < height, firstColumn < lastColumn else {
                                line.update(repeating: 0, count: outWidth)
                                continue
                            }
                            if firstColumn > 0 { line.update(repeating: 0, count: firstColumn) }
                            if lastColumn < outWidth { (line + lastColumn).update(repeating: 0, count: outWidth - lastColumn) }
                            let source = channel + iy * width + firstColumn * stride - padding + kx
                            if stride == 1 {
                                (line + firstColumn).update(from: source, count: lastColumn - firstColumn)
                            } else {
                                for xIndex in 0..<(lastColumn - firstColumn) { line[firstColumn + xIndex] = source[xIndex * stride] }
                            }
                        }
                    }
                }
            }
        }
        let band = target + firstRow * outWidth
        weight.values.withUnsafeBufferPointer { weights in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputs), Int32(span), Int32(patch), 1, weights.baseAddress!,
                Int32(patch), columns, Int32(span), 0, band, Int32(targetRowStride))
        }
        if let bias {
            for o in 0..<outputs {
                let line = band + o * targetRowStride, b = bias.values[o]
                for p in 0..<span { line[p] += b }
            }
        }
    }
}

/// Runs `body` with the number of parallel workers for `jobs` independent
/// products: as many as OpenBLAS has threads, OpenBLAS itself single-threaded meanwhile.
func withSingleThreadedProducts<R, E: Error>(jobs: Int, _ body: (Int) throws(E) -> R) throws(E) -> R {
    let threads = max(1, Int(openblas_get_num_threads()))
    let workers = max(1, min(threads, jobs))
    if workers > 1 { openblas_set_num_threads(1) }
    defer { if workers > 1 { openblas_set_num_threads(Int32(threads)) } }
    return try body(workers)
}

/// Calls `body` with a pointer to each channel's volume of `parts`, indexed
/// [n · channels + c] over the channel concatenation, valid during the call.
func withChannelPointers<R>(_ parts: [Tensor], _ body: (UnsafeBufferPointer<UnsafeMutablePointer<Float>>) -> R) -> R {
    func bind(_ index: Int, bases: [UnsafeMutablePointer<Float>]) -> R {
        guard index < parts.count else {
            return channelPointers(of: parts, bases: bases).withUnsafeBufferPointer { body($0) }
        }
        return parts[index].values.withUnsafeBufferPointer { values in
            bind(index + 1, bases: bases + [UnsafeMutablePointer(mutating: values.baseAddress!)])
        }
    }
    return bind(0, bases: [])
}

/// The table `withChannelPointers` hands out: channel c of sample n of the
/// concatenation of `parts`, whose values start at `bases`, at [n · channels + c].
func channelPointers(of parts: [Tensor], bases: [UnsafeMutablePointer<Float>]) -> [UnsafeMutablePointer<Float>] {
    let batch = parts[0].shape[0], voxels = parts[0].shape[2...].reduce(1, *)
    var pointers = [UnsafeMutablePointer<Float>]()
    pointers.reserveCapacity(batch * parts.reduce(0) { $0 + $1.shape[1] })
    for n in 0..<batch {
        for (part, base) in zip(parts, bases) {
            let count = part.shape[1]
            for c in 0..<count { pointers.append(base + (n * count + c) * voxels) }
        }
    }
    return pointers
}

/// A pointer handed to parallel workers that touch disjoint parts of its memory.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

extension Conv3d {
    /// A 1×1×1 convolution is one product per sample and input part, weight
    /// [out, C] × input [C, voxels], with no im2col.
    func pointwise(_ parts: [Tensor], channels: Int) -> Tensor {
        let batch = parts[0].shape[0], outputs = weight.shape[0]
        let voxels = parts[0].shape[2...].reduce(1, *)
        return Tensor(shape: [batch, outputs] + Array(parts[0].shape[2...])) { result in
            if let bias {
                for block in 0..<batch * outputs {
                    (result + block * voxels).update(repeating: bias.values[block % outputs], count: voxels)
                }
            }
            weight.values.withUnsafeBufferPointer { weights in
                var offset = 0
                for part in parts {
                    let partChannels = part.shape[1]
                    part.values.withUnsafeBufferPointer { input in
                        for n in 0..<batch {
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputs), Int32(voxels), Int32(partChannels), 1,
                                weights.baseAddress! + offset, Int32(channels), input.baseAddress! + n * partChannels * voxels,
                                Int32(voxels),
                                bias == nil && offset == 0 ? 0 : 1, result + n * outputs * voxels, Int32(voxels))
                        }
                    }
                    offset += partChannels
                }
            }
        }
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

    public func forward(_ x: consuming Tensor) -> Tensor {
        var y = x
        apply(to: &y)
        return y
    }

    /// Normalises `x` in place, then applies LeakyReLU with `leakySlope` if given
    /// (MONAI's norm → activation, in one pass over the data).
    public func apply(to x: inout Tensor, leakySlope: Float? = nil) {
        let channels = x.shape[1], voxels = x.shape[2...].reduce(1, *), blocks = x.count / max(1, voxels)
        guard voxels > 0 else { return }
        let workers = max(1, min(blocks, Int(openblas_get_num_threads())))
        let epsilon = Double(epsilon), gammas = weight?.values, betas = bias?.values
        x.values.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedPointer(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for block in (blocks * worker / workers)..<(blocks * (worker + 1) / workers) {
                    let values = shared.base + block * voxels, channel = block % channels
                    let (mean, scale) = Normalization.statistics(values, voxels, epsilon: epsilon)
                    Normalization.apply(
                        values, voxels, mean: mean, scale: scale * (gammas?[channel] ?? 1), shift: betas?[channel] ?? 0, slope: leakySlope)
                }
            }
        }
    }
}
