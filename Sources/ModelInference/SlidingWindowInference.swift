import Foundation
public import Imaging
public import NeuralEngine

/// MONAI's `sliding_window_inference` on one image: the image is padded
/// (constant, centred) to at least the window size, windows are laid out
/// with the given overlap (the last one on each axis pushed back inside),
/// each window's logits are weighted by the importance map and blended, and
/// the blend is divided by the summed weights, then cropped back.
public struct SlidingWindowInference: Sendable {
    public var roiSize: SIMD3<Int>
    public var overlap: Double
    /// Gaussian importance (σ = sigmaScale · roi per axis) or constant weights.
    public var gaussian: Bool
    public var sigmaScale: Double
    /// Padding value.
    public var cval: Float

    public init(roiSize: SIMD3<Int>, overlap: Double, gaussian: Bool, sigmaScale: Double = 0.125, cval: Float = 0) {
        self.roiSize = roiSize
        self.overlap = overlap
        self.gaussian = gaussian
        self.sigmaScale = sigmaScale
        self.cval = cval
    }

    /// MONAI's `compute_importance_map`, in float32 as MONAI computes it: a
    /// separable Gaussian on centred coordinates, clamped below by its
    /// smallest value or 1e-3, whichever is larger. Index `(c * R1 + b) * R0 + a` for sample (a, b, c).
    public var importanceMap: [Float] {
        let r = roiSize
        guard gaussian else { return [Float](repeating: 1, count: r.x * r.y * r.z) }
        let profiles = (0..<3).map { axis -> [Float] in
            let size = r[axis]
            let sigma = Double(size) * sigmaScale
            let divisor = Float(-2 * sigma * sigma)
            return (0..<size).map { t in
                let x = Float(-(Double(size) - 1) / 2 + Double(t))
                return expf(x * x / divisor)
            }
        }
        var map = [Float](repeating: 0, count: r.x * r.y * r.z)
        var smallest = Float.infinity
        for c in 0..<r.z {
            for b in 0..<r.y {
                for a in 0..<r.x {
                    let w = profiles[0][a] * profiles[1][b] * profiles[2][c]
                    map[(c * r.y + b) * r.x + a] = w
                    smallest = min(smallest, w)
                }
            }
        }
        let floor = max(smallest, 1e-3)
        return map.map { max($0, floor) }
    }

    /// The window start positions along one axis of a (padded) image of `size` samples.
    public func starts(size: Int, axis: Int) -> [Int] {
        let roi = roiSize[axis]
        let interval = roi == size ? roi : max(1, Int(Double(roi) * (1 - overlap)))
        let scans = Int((Double(size) / Double(interval)).rounded(.up))
        let count = ((0..<scans).first { $0 * interval + roi >= size } ?? 0) + 1
        return (0..<count).map { index in
            let start = index * interval
            return start - max(start + roi - size, 0)
        }
    }

    /// Blended logits, one grid per output channel, on `image`'s grid.
    /// `predict` takes a window [1, 1, R0, R1, R2] (PyTorch layout, the
    /// grid's axis 0 first) and returns [1, K, R0, R1, R2].
    ///
    /// `outputChannels`, when known, lets the blend's volumes be allocated
    /// before the first window rather than between two windows' activations,
    /// where they would split the memory those leave free.
    public func run(
        _ image: Grid, outputChannels: Int? = nil, progress: (Double) -> Void = { _ in },
        predict: (Tensor) throws -> Tensor
    ) throws -> [Grid] {
        try run(channels: [image], outputChannels: outputChannels, progress: progress, predict: predict)
    }

    /// The same on an image of several channels (one grid each, all on the
    /// first one's grid): windows are [1, C, R0, R1, R2].
    public func run(
        channels images: [Grid], outputChannels: Int? = nil, progress: (Double) -> Void = { _ in },
        predict: (Tensor) throws -> Tensor
    ) throws -> [Grid] {
        guard let image = images.first, images.allSatisfy({ $0.shape == image.shape }) else {
            throw ModelInferenceError("sliding-window inference needs one or more channels of the same shape")
        }
        let roi = roiSize
        let padded = SIMD3(max(image.shape.x, roi.x), max(image.shape.y, roi.y), max(image.shape.z, roi.z))
        let front = (padded &- image.shape) / 2
        // An image at least as large as the window on every axis is used as it is, not copied.
        let channelValues: [[Float]] = images.map { image in
            guard padded != image.shape else { return image.values }
            var values = [Float](repeating: cval, count: padded.x * padded.y * padded.z)
            for k in 0..<image.shape.z {
                for j in 0..<image.shape.y {
                    let target = ((k + front.z) * padded.y + j + front.y) * padded.x + front.x
                    let source = image.index(0, j, k)
                    values.replaceSubrange(target..<target + image.shape.x, with: image.values[source..<source + image.shape.x])
                }
            }
            return values
        }
        let paddedCount = padded.x * padded.y * padded.z
        let weights = importanceMap
        let starts = (0..<3).map { self.starts(size: padded[$0], axis: $0) }
        let windows = starts[0].count * starts[1].count * starts[2].count
        var output = [[Float]]()
        func allocateBlend(channels: Int) { output = Array(repeating: [Float](repeating: 0, count: paddedCount), count: channels) }
        if let outputChannels { allocateBlend(channels: outputChannels) }
        let inputChannels = channelValues.count, windowVolume = roi.x * roi.y * roi.z
        var window = [Float](repeating: 0, count: inputChannels * windowVolume)
        let sliceStride = padded.y * padded.x, windowStride = roi.y * roi.z
        var done = 0
        for s0 in starts[0] {
            for s1 in starts[1] {
                for s2 in starts[2] {
                    // Tensor index (a * R1 + b) * R2 + c holds grid sample (s0 + a, s1 + b, s2 + c).
                    for (channel, values) in channelValues.enumerated() {
                        values.withUnsafeBufferPointer { values in
                            window.withUnsafeMutableBufferPointer { window in
                                for a in 0..<roi.x {
                                    for b in 0..<roi.y {
                                        let line = window.baseAddress! + channel * windowVolume + (a * roi.y + b) * roi.z
                                        let source = values.baseAddress! + (s2 * padded.y + s1 + b) * padded.x + s0 + a
                                        for c in 0..<roi.z { line[c] = source[c * sliceStride] }
                                    }
                                }
                            }
                        }
                    }
                    let logits = try predict(Tensor(shape: [1, inputChannels, roi.x, roi.y, roi.z], values: window))
                    guard logits.shape.count == 5, logits.shape[0] == 1, Array(logits.shape[2...]) == [roi.x, roi.y, roi.z] else {
                        throw ModelInferenceError("the network returned \(logits.shape) for a window of \(roi)")
                    }
                    let channels = logits.shape[1], volume = roi.x * roi.y * roi.z
                    if output.isEmpty { allocateBlend(channels: channels) }
                    guard output.count == channels else {
                        throw ModelInferenceError("the network returned \(channels) channels, \(output.count) expected")
                    }
                    // Each voxel's weighted logits, added window after window in the order the windows come.
                    weights.withUnsafeBufferPointer { weights in
                        logits.values.withUnsafeBufferPointer { logits in
                            for channel in 0..<channels {
                                output[channel].withUnsafeMutableBufferPointer { accumulated in
                                    let logits = logits.baseAddress! + channel * volume
                                    for c in 0..<roi.z {
                                        for b in 0..<roi.y {
                                            let target = accumulated.baseAddress! + ((s2 + c) * padded.y + s1 + b) * padded.x + s0
                                            let weight = weights.baseAddress! + (c * roi.y + b) * roi.x
                                            let source = logits + b * roi.z + c
                                            for a in 0..<roi.x { target[a] += source[a * windowStride] * weight[a] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    done += 1
                    progress(Double(done) / Double(windows))
                }
            }
        }
        // The summed weights, one slice at a time (never a whole volume of
        // them), each voxel's sum in the same window order as the blend.
        var count = [Float](repeating: 0, count: padded.x * padded.y)
        for k in front.z..<front.z + image.shape.z {
            count.withUnsafeMutableBufferPointer { count in
                count.update(repeating: 0)
                weights.withUnsafeBufferPointer { weights in
                    for s0 in starts[0] {
                        for s1 in starts[1] {
                            for s2 in starts[2] where (s2..<s2 + roi.z).contains(k) {
                                for b in 0..<roi.y {
                                    let target = count.baseAddress! + (s1 + b) * padded.x + s0
                                    let weight = weights.baseAddress! + ((k - s2) * roi.y + b) * roi.x
                                    for a in 0..<roi.x { target[a] += weight[a] }
                                }
                            }
                        }
                    }
                }
                for channel in output.indices {
                    output[channel].withUnsafeMutableBufferPointer { blended in
                        for j in front.y..<front.y + image.shape.y {
                            let line = blended.baseAddress! + (k * padded.y + j) * padded.x, weight = count.baseAddress! + j * padded.x
                            for i in front.x..<front.x + image.shape.x { line[i] /= weight[i] }
                        }
                    }
                }
            }
        }
        if padded == image.shape {
            return output.map { Grid(shape: image.shape, values: $0, coordinates: image.coordinates) }
        }
        return output.map { channel in
            var cropped = [Float]()
            cropped.reserveCapacity(image.values.count)
            for k in 0..<image.shape.z {
                for j in 0..<image.shape.y {
                    let base = ((k + front.z) * padded.y + j + front.y) * padded.x + front.x
                    cropped.append(contentsOf: channel[base..<base + image.shape.x])
                }
            }
            return Grid(shape: image.shape, values: cropped, coordinates: image.coordinates)
        }
    }
}
