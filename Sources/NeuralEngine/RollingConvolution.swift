import CBLAS
import Dispatch
import Synchronization

/// Stride-1, size-preserving convolutions (kernel 2·padding + 1) computed
/// slice by slice along z, each output slice written over an input's slice
/// as soon as no later output slice reads it. A U-Net block's convolutions at
/// full resolution then need no new volume: their outputs take the place of
/// the inputs they consume (a decoder's up-sampled features and skip, a
/// block's intermediate activation).
///
/// Inputs shared with someone else are copied first, so callers that keep
/// their tensors see no change; the saving comes from inputs handed over.
enum RollingConvolution {
    /// Whether `run` applies: convolution i's output replaces `parts[targets[i]]`.
    static func fits(_ convolutions: [Conv3d], parts: [Tensor], targets: [Int]) -> Bool {
        guard let first = parts.first, first.shape.count == 5, convolutions.count == targets.count, Set(targets).count == targets.count,
            parts.allSatisfy({ $0.shape.count == 5 && $0.shape[0] == first.shape[0] && $0.shape[2...] == first.shape[2...] })
        else { return false }
        let channels = parts.reduce(0) { $0 + $1.shape[1] }
        return zip(convolutions, targets).allSatisfy { convolution, target in
            let weight = convolution.weight.shape
            return weight.count == 5 && weight[1] == channels && convolution.stride == 1 && weight[2] == 2 * convolution.padding + 1
                && weight[3] == weight[2] && weight[4] == weight[2] && parts.indices.contains(target) && parts[target].shape[1] == weight[0]
                && first.shape[2...].allSatisfy { $0 > convolution.padding }
        }
    }

    /// Runs every convolution over the channel concatenation of `parts`;
    /// afterwards `parts[targets[i]]` holds convolution i's output. Call only when `fits`.
    static func run(_ convolutions: [Conv3d], over parts: inout [Tensor], into targets: [Int]) {
        precondition(fits(convolutions, parts: parts, targets: targets), "RollingConvolution.run on shapes it does not fit")
        let shape = parts[0].shape
        let (batch, depth, height, width) = (shape[0], shape[2], shape[3], shape[4])
        let channels = parts.reduce(0) { $0 + $1.shape[1] }, plane = height * width
        let lag = convolutions.map(\.padding).max() ?? 0, slots = lag + 1
        let geometry = Conv3d.Geometry(channels: channels, depth: depth, height: height, width: width, outHeight: height, outWidth: width)
        let threads = max(1, Int(openblas_get_num_threads()))
        // Each slice's bands, enough of them to keep every worker busy.
        var jobs = [(convolution: Int, firstRow: Int, rows: Int)]()
        for (index, convolution) in convolutions.enumerated() {
            let rowsPerBand = min(geometry.rowsPerBand(kernel: convolution.weight.shape[2]), max(1, (height + threads - 1) / threads))
            for firstRow in stride(from: 0, to: height, by: rowsPerBand) {
                jobs.append((index, firstRow, min(rowsPerBand, height - firstRow)))
            }
        }
        let columnsCapacity = convolutions.map { geometry.columnsCapacity(kernel: $0.weight.shape[2]) }.max() ?? 0
        let rings = convolutions.map { UnsafeMutablePointer<Float>.allocate(capacity: slots * $0.weight.shape[0] * plane) }
        defer { rings.forEach { $0.deallocate() } }
        let jobList = jobs
        withSingleThreadedProducts(jobs: jobList.count) { workers in
            let columns = (0..<workers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: columnsCapacity) }
            defer { columns.forEach { $0.deallocate() } }
            withMutableChannelPointers(&parts) { channelInputs, partBases in
                let sharedInputs = SharedPointer(channelInputs)
                let sharedRings = rings.map(SharedPointer.init), sharedColumns = columns.map(SharedPointer.init)
                /// Output slice s of every convolution, from its ring into its target.
                func commit(_ n: Int, _ s: Int) {
                    for (index, convolution) in convolutions.enumerated() {
                        let outputs = convolution.weight.shape[0]
                        for o in 0..<outputs {
                            (partBases[targets[index]] + ((n * outputs + o) * depth + s) * plane)
                                .update(from: rings[index] + ((s % slots) * outputs + o) * plane, count: plane)
                        }
                    }
                }
                for n in 0..<batch {
                    for z in 0..<depth {
                        // Bands differ in cost (a 3³ kernel's against a 1³ one's): each worker takes the next one left.
                        let next = Atomic<Int>(0)
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            while true {
                                let index = next.add(1, ordering: .relaxed).oldValue
                                guard index < jobList.count else { break }
                                let job = jobList[index]
                                let convolution = convolutions[job.convolution], outputs = convolution.weight.shape[0]
                                convolution.convolveBand(
                                    geometry, inputs: UnsafePointer(sharedInputs.base + n * channels), z: z, firstRow: job.firstRow,
                                    rows: job.rows,
                                    columns: sharedColumns[worker].base,
                                    target: sharedRings[job.convolution].base + (z % slots) * outputs * plane, targetRowStride: plane)
                            }
                        }
                        // Input slice z − lag is read by no later output slice.
                        if z >= lag { commit(n, z - lag) }
                    }
                    for s in max(0, depth - lag)..<depth { commit(n, s) }
                }
            }
        }
    }
}

extension Conv3d {
    /// `tensor = forward(tensor)`, slice by slice in the same memory when the
    /// convolution keeps size and channels (see `RollingConvolution`).
    func forward(inPlaceOf tensor: inout Tensor) throws(NeuralEngineError) {
        var parts = [Tensor(shape: [0], values: [])]
        swap(&parts[0], &tensor)
        defer { swap(&parts[0], &tensor) }
        if RollingConvolution.fits([self], parts: parts, targets: [0]) {
            RollingConvolution.run([self], over: &parts, into: [0])
        } else {
            parts[0] = try forward(parts[0])
        }
    }
}

/// Calls `body` with writable pointers to each channel's volume of `parts`,
/// indexed [n · channels + c] over their concatenation, and to each part's
/// first value. A part whose values are shared is copied first.
private func withMutableChannelPointers(
    _ parts: inout [Tensor], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<Float>>, [UnsafeMutablePointer<Float>]) -> Void
) {
    func bind(_ index: Int, bases: [UnsafeMutablePointer<Float>]) {
        guard index < parts.count else {
            var pointers = channelPointers(of: parts, bases: bases)
            pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!, bases) }
            return
        }
        // The values leave the array for the call, so that each is written through its own variable.
        var values = [Float]()
        swap(&values, &parts[index].values)
        values.withUnsafeMutableBufferPointer { buffer in bind(index + 1, bases: bases + [buffer.baseAddress!]) }
        swap(&values, &parts[index].values)
    }
    bind(0, bases: [])
}
