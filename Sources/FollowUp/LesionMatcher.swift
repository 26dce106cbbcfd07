/// Pairs the lesions of two consecutive examinations of a patient: the
/// later one is first brought onto the earlier by the translation between
/// their head centroids (the patient lies differently in the scanner), then
/// lesions are assigned one-to-one, minimising the summed centroid distance.
/// A pair is allowed only when its centroids lie within the match limit:
/// `max(minimumLimit, largest longest diameter of the two)` mm, so that a
/// large lesion that grows lopsidedly still matches while two small
/// neighbours do not swap.
public struct LesionMatcher: Sendable {
    /// What matching needs of a lesion.
    public struct Lesion: Sendable, Equatable {
        /// Patient coordinates (mm).
        public var centroid: SIMD3<Double>
        public var longestDiameter: Double

        public init(centroid: SIMD3<Double>, longestDiameter: Double) {
            self.centroid = centroid
            self.longestDiameter = longestDiameter
        }
    }

    /// The smallest match limit (mm).
    public var minimumLimit: Double

    public init(minimumLimit: Double = 10) {
        self.minimumLimit = minimumLimit
    }

    /// For each lesion of `current`, the index of its lesion in `previous`, or nil (new).
    /// `previous` lesions no current lesion names have resolved.
    public func match(
        previous: [Lesion], previousHead: SIMD3<Double>?, current: [Lesion], currentHead: SIMD3<Double>?
    ) -> [Int?] {
        var shift = SIMD3<Double>.zero
        if let previousHead, let currentHead { shift = previousHead - currentHead }
        let costs = current.map { lesion in
            previous.map { earlier -> Double in
                let moved = lesion.centroid + shift
                let d = moved - earlier.centroid
                let distance = (d * d).sum().squareRoot()
                return distance / max(minimumLimit, lesion.longestDiameter, earlier.longestDiameter)
            }
        }
        return LesionAssignment.assign(costs, limit: 1)
    }
}
