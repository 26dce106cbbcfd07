public import Imaging

/// One labelled case scored against the lesions an engine reported.
///
/// The truth is the generator's own: per voxel of the series, 0 outside the
/// head, 1 head outside the intracranial volume, 2 intracranial, 3 + n
/// lesion n (`Weights/training/cases.py`). A truth lesion is found when a
/// reported lesion (26-connected component) overlaps it; a reported lesion
/// overlapping no truth lesion is a false positive, "outside" when most of
/// its voxels lie outside the truth's intracranial volume. Volume and
/// diameter errors compare pairs matched one to one by largest overlap.
public struct CaseEvaluation: Sendable, Codable, Equatable {
    public struct TruthLesion: Sendable, Codable, Equatable {
        public var number: Int
        /// Longest diameter of the truth lesion, measured as Metis measures lesions, mm.
        public var diameterMm: Double
        public var volumeMm3: Double
        public var found: Bool
        /// The matched reported lesion's volume and longest diameter.
        public var matchedVolumeMm3: Double?
        public var matchedDiameterMm: Double?
    }

    public struct FalsePositive: Sendable, Codable, Equatable {
        public var volumeMm3: Double
        public var outsideIntracranialVolume: Bool
        /// Patient coordinates (LPS, mm).
        public var centroidMm: [Double]
    }

    public var name: String
    public var contrast: String?
    public var lesions: [TruthLesion]
    public var falsePositives: [FalsePositive]
    public var truthVoxels: Int
    public var predictedVoxels: Int
    public var intersectionVoxels: Int
    /// Components the plausibility rules dropped.
    public var rejected: Int
    /// Metis's intracranial mask against the truth's: the share of the truth
    /// it covers, and the share of it outside the truth (scalp, skull, air).
    public var intracranialCoverage: Double?
    public var intracranialLeak: Double?
    public var seconds: Double

    /// Voxel Dice of this case, nil without truth lesions.
    public var dice: Double? {
        truthVoxels == 0 ? nil : 2 * Double(intersectionVoxels) / Double(truthVoxels + predictedVoxels)
    }

    /// Scores `predicted` (one Bool per voxel of `volume`) against `truth` codes on the same grid.
    public static func evaluate(
        name: String, contrast: String?, truth: [UInt8], predicted: [Bool], volume: Volume, intracranial: [Bool]? = nil, rejected: Int = 0,
        seconds: Double = 0
    ) -> CaseEvaluation {
        precondition(truth.count == predicted.count && truth.count == volume.voxels.count, "truth, prediction and volume differ in size")
        let columns = volume.columns, rows = volume.rows, slices = volume.slices
        let truthLabels = truth.map { $0 >= 3 ? Int32($0) - 2 : 0 }
        let truthCount = Int(truthLabels.max() ?? 0)
        let (predictedLabels, predictedCount) = ConnectedComponents.label(predicted, columns: columns, rows: rows, slices: slices)
        var overlap = [Int: Int]()  // truth * (predictedCount + 1) + predicted → voxels
        var outside = [Int](repeating: 0, count: predictedCount + 1), size = outside
        var truthVoxels = 0, predictedVoxels = 0, intersection = 0
        for index in truth.indices {
            let t = Int(truthLabels[index]), p = Int(predictedLabels[index])
            if t > 0 { truthVoxels += 1 }
            guard p > 0 else { continue }
            predictedVoxels += 1
            size[p] += 1
            if truth[index] < 2 { outside[p] += 1 }
            if t > 0 {
                intersection += 1
                overlap[t * (predictedCount + 1) + p, default: 0] += 1
            }
        }
        let truthBounds = VoxelBounds.of(truthLabels, count: truthCount, columns: columns, rows: rows)
        let predictedBounds = VoxelBounds.of(predictedLabels, count: predictedCount, columns: columns, rows: rows)
        func measure(_ label: Int, _ labels: [Int32], _ bounds: [VoxelBounds?]) -> LesionMeasurement? {
            LesionMeasurement.measure(label: Int32(label), labels: labels, volume: volume, bounds: bounds[label])
        }
        // One-to-one pairs, largest overlap first.
        var pairedTruth = [Int: Int](), pairedPrediction = Set<Int>()
        for (key, _) in overlap.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            let t = key / (predictedCount + 1), p = key % (predictedCount + 1)
            guard pairedTruth[t] == nil, !pairedPrediction.contains(p) else { continue }
            pairedTruth[t] = p
            pairedPrediction.insert(p)
        }
        let touched = Set(overlap.keys.map { $0 % (predictedCount + 1) })
        let found = Set(overlap.keys.map { $0 / (predictedCount + 1) })
        let lesions =
            truthCount == 0
            ? []
            : (1...truthCount).compactMap { t -> TruthLesion? in
                guard let m = measure(t, truthLabels, truthBounds) else { return nil }  // a lesion no slice shows
                let matched = pairedTruth[t].flatMap { measure($0, predictedLabels, predictedBounds) }
                return TruthLesion(
                    number: t, diameterMm: m.longestDiameter, volumeMm3: m.volume, found: found.contains(t),
                    matchedVolumeMm3: matched?.volume,
                    matchedDiameterMm: matched?.longestDiameter)
            }
        let falsePositives =
            predictedCount == 0
            ? []
            : (1...predictedCount).filter { !touched.contains($0) }.compactMap { p -> FalsePositive? in
                guard let m = measure(p, predictedLabels, predictedBounds) else { return nil }
                return FalsePositive(
                    volumeMm3: m.volume, outsideIntracranialVolume: outside[p] * 2 > size[p],
                    centroidMm: [m.centroid.x, m.centroid.y, m.centroid.z])
            }
        var coverage: Double?, leak: Double?
        if let intracranial {
            var truthInside = 0, covered = 0, masked = 0, leaked = 0
            for index in truth.indices {
                let inside = truth[index] >= 2
                if inside { truthInside += 1 }
                guard intracranial[index] else { continue }
                masked += 1
                if inside { covered += 1 } else { leaked += 1 }
            }
            coverage = truthInside == 0 ? nil : Double(covered) / Double(truthInside)
            leak = masked == 0 ? nil : Double(leaked) / Double(masked)
        }
        return CaseEvaluation(
            name: name, contrast: contrast, lesions: lesions, falsePositives: falsePositives, truthVoxels: truthVoxels,
            predictedVoxels: predictedVoxels,
            intersectionVoxels: intersection, rejected: rejected, intracranialCoverage: coverage, intracranialLeak: leak, seconds: seconds)
    }
}
