/// Order statistics of intensity samples.
enum Statistics {
    /// At most about `limit` evenly spaced values of `values`.
    static func sample(_ values: [Float], limit: Int) -> [Float] {
        let step = max(1, values.count / limit)
        guard step > 1 else { return values }
        return stride(from: 0, to: values.count, by: step).map { values[$0] }
    }

    /// Otsu's threshold of a sample (256 bins between its min and max).
    static func otsu(_ values: [Float]) -> Float {
        let low = values.min()!, high = values.max()!
        guard high > low else { return low }
        var histogram = [Double](repeating: 0, count: 256)
        let width = (high - low) / 256
        for value in values { histogram[min(255, Int((value - low) / width))] += 1 }
        let total = Double(values.count)
        let sum = histogram.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element }
        var weightBelow = 0.0, sumBelow = 0.0, best = 0.0, threshold = 0
        for bin in 0..<256 {
            weightBelow += histogram[bin]
            guard weightBelow > 0, weightBelow < total else { continue }
            sumBelow += Double(bin) * histogram[bin]
            let meanBelow = sumBelow / weightBelow, meanAbove = (sum - sumBelow) / (total - weightBelow)
            let between = weightBelow * (total - weightBelow) * (meanBelow - meanAbove) * (meanBelow - meanAbove)
            if between > best {
                best = between
                threshold = bin
            }
        }
        return low + Float(threshold + 1) * width
    }

    static func median(_ values: [Float]) -> Float {
        var sorted = values
        sorted.sort()
        return sorted[sorted.count / 2]
    }
}
