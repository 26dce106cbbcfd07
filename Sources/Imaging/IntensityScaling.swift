/// Linear intensity scaling from [aMin, aMax] to [bMin, bMax], optionally
/// clipped (MONAI's `ScaleIntensityRange`), and its inverse.
public struct IntensityScaling: Sendable, Equatable {
    public var aMin: Float
    public var aMax: Float
    public var bMin: Float
    public var bMax: Float
    public var clip: Bool

    public init(aMin: Float, aMax: Float, bMin: Float = 0, bMax: Float = 1, clip: Bool = true) {
        self.aMin = aMin
        self.aMax = aMax
        self.bMin = bMin
        self.bMax = bMax
        self.clip = clip
    }

    public func apply(_ values: [Float]) -> [Float] {
        let scale = (bMax - bMin) / (aMax - aMin)
        return values.map { value in
            let scaled = (value - aMin) * scale + bMin
            return clip ? min(max(scaled, min(bMin, bMax)), max(bMin, bMax)) : scaled
        }
    }

    /// Back to the original range (exact for values that were not clipped).
    public func invert(_ values: [Float]) -> [Float] {
        let scale = (aMax - aMin) / (bMax - bMin)
        return values.map { ($0 - bMin) * scale + aMin }
    }
}
