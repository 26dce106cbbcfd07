extension Volume {
    /// The centroid (patient mm) of the head: the voxels above a tenth of the
    /// 99.5th percentile of intensity, a threshold that keeps tissue and drops
    /// the air around it whatever the scanner's scale. Nil for an empty image.
    /// Two examinations of one patient are aligned by the difference of theirs.
    public func headCentroid() -> SIMD3<Double>? {
        guard !voxels.isEmpty else { return nil }
        // The percentile from at most ~200 000 evenly spaced samples.
        let step = max(1, voxels.count / 200_000)
        var sample = [Float]()
        sample.reserveCapacity(voxels.count / step + 1)
        for index in stride(from: 0, to: voxels.count, by: step) { sample.append(voxels[index]) }
        sample.sort()
        let high = sample[min(sample.count - 1, Int(Double(sample.count - 1) * 0.995))]
        guard high > 0 else { return nil }
        let threshold = high / 10
        var sum = SIMD3<Double>(0, 0, 0), count = 0.0
        for slice in 0..<slices {
            for row in 0..<rows {
                var rowSum = 0.0, rowCount = 0.0
                let base = index(column: 0, row: row, slice: slice)
                for column in 0..<columns where voxels[base + column] > threshold {
                    rowSum += Double(column)
                    rowCount += 1
                }
                guard rowCount > 0 else { continue }
                sum += geometry.position(column: rowSum / rowCount, row: Double(row), slice: slice) * rowCount
                count += rowCount
            }
        }
        return count > 0 ? sum / count : nil
    }
}
