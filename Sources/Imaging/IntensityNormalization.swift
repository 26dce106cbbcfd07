/// Zero mean, unit variance (MONAI's `NormalizeIntensity` with its default
/// subtrahend and divisor): statistics over the non-zero samples only when
/// `nonzero`, which are then the only ones changed. The standard deviation is
/// the biased one (PyTorch's `unbiased=False`); a zero deviation divides by 1.
public struct IntensityNormalization: Sendable, Equatable {
    public var nonzero: Bool

    public init(nonzero: Bool) {
        self.nonzero = nonzero
    }

    public func apply(_ values: [Float]) -> [Float] {
        var sum = 0.0, count = 0
        for value in values where !nonzero || value != 0 {
            sum += Double(value)
            count += 1
        }
        guard count > 0 else { return values }
        let mean = sum / Double(count)
        var squares = 0.0
        for value in values where !nonzero || value != 0 {
            let d = Double(value) - mean
            squares += d * d
        }
        let deviation = (squares / Double(count)).squareRoot()
        let divisor = deviation == 0 ? 1 : deviation
        let m = Float(mean), s = Float(divisor)
        return values.map { value in nonzero && value == 0 ? 0 : (value - m) / s }
    }
}
