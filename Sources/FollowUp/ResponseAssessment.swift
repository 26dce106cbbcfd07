/// RANO-BM response assessment of brain metastases (Lin et al., Lancet
/// Oncol 2015;16:e270–8), from lesion measurements alone, and its volumetric
/// variant. What needs a clinician — corticosteroid dose, clinical status,
/// non-target and non-measurable disease judged unequivocally progressive,
/// confirmation of a response on a later scan — is not known here and is
/// stated as such in `docs/tracking.md`.
public enum ResponseAssessment {
    /// The rules' numbers.
    public static let measurableDiameter = 10.0
    public static let measurableSlices = 2
    public static let maximumTargets = 5
    public static let partialResponseDecrease = 0.30
    public static let progressionIncrease = 0.20
    /// RANO-BM also asks at least one target lesion to grow by 5 mm or more for progression.
    public static let progressionAbsoluteIncrease = 5.0
    public static let volumetricPartialResponseDecrease = 0.65
    public static let volumetricProgressionIncrease = 0.73

    public enum Category: String, Sendable, Codable {
        case baseline = "BASELINE"
        case completeResponse = "CR"
        case partialResponse = "PR"
        case stableDisease = "SD"
        case progressiveDisease = "PD"
        /// No measurable disease at baseline and none new: nothing to assess.
        case notEvaluable = "NE"
    }

    /// One tracked lesion at one time point (nil when the track has no lesion then).
    public struct Measurement: Sendable, Equatable {
        public var track: Int
        /// Longest diameter in the axial plane (mm).
        public var longestDiameter: Double
        public var volume: Double
        public var slices: Int

        public init(track: Int, longestDiameter: Double, volume: Double, slices: Int) {
            self.track = track
            self.longestDiameter = longestDiameter
            self.volume = volume
            self.slices = slices
        }

        public var isMeasurable: Bool {
            longestDiameter >= ResponseAssessment.measurableDiameter && slices >= ResponseAssessment.measurableSlices
        }
    }

    /// The assessment of one time point.
    public struct TimePoint: Sendable, Equatable {
        public var category: Category
        public var volumetricCategory: Category
        /// Sum of the target lesions' longest diameters (mm).
        public var sumOfDiameters: Double
        public var targetVolume: Double
        /// Smallest sum so far (baseline included), the reference for progression.
        public var nadir: Double
        public var volumeNadir: Double
        /// Relative change of the sum from baseline and from the nadir before this time point.
        public var changeFromBaseline: Double?
        public var changeFromNadir: Double?
        /// Measurable lesions on tracks absent at baseline.
        public var newMeasurableTracks: [Int]
    }

    /// Target tracks: up to five measurable baseline lesions, largest first (ties by track).
    public static func targets(baseline: [Measurement]) -> [Int] {
        baseline.filter(\.isMeasurable)
            .sorted { ($0.longestDiameter, -$0.track) > ($1.longestDiameter, -$1.track) }
            .prefix(maximumTargets).map(\.track)
    }

    /// Assessments of every time point, the first being the baseline.
    public static func assess(_ timePoints: [[Measurement]]) -> [TimePoint] {
        guard let baseline = timePoints.first else { return [] }
        let targets = targets(baseline: baseline)
        let baselineTracks = Set(baseline.map(\.track))
        func sums(_ lesions: [Measurement]) -> (Double, Double) {
            let chosen = lesions.filter { targets.contains($0.track) }
            return (chosen.map(\.longestDiameter).reduce(0, +), chosen.map(\.volume).reduce(0, +))
        }
        let (baseSum, baseVolume) = sums(baseline)
        var result = [
            TimePoint(
                category: .baseline, volumetricCategory: .baseline, sumOfDiameters: baseSum, targetVolume: baseVolume, nadir: baseSum,
                volumeNadir: baseVolume, changeFromBaseline: nil, changeFromNadir: nil, newMeasurableTracks: [])
        ]
        var nadir = baseSum, volumeNadir = baseVolume
        // Smallest diameter each target has had so far, for the 5 mm rule.
        var smallest = Dictionary(
            uniqueKeysWithValues: baseline.filter { targets.contains($0.track) }.map { ($0.track, $0.longestDiameter) })
        for lesions in timePoints.dropFirst() {
            let (sum, volume) = sums(lesions)
            let newMeasurable = lesions.filter { !baselineTracks.contains($0.track) && $0.isMeasurable }.map(\.track).sorted()
            let grewFiveMillimetres = lesions.contains { lesion in
                smallest[lesion.track].map { lesion.longestDiameter - $0 >= progressionAbsoluteIncrease } ?? false
            }
            let fromBaseline = baseSum > 0 ? (sum - baseSum) / baseSum : nil
            let fromNadir = nadir > 0 ? (sum - nadir) / nadir : nil
            let allGone = lesions.isEmpty
            let category: Category
            let volumetric: Category
            if targets.isEmpty {
                category = newMeasurable.isEmpty ? .notEvaluable : .progressiveDisease
                volumetric = category
            } else {
                // From a nadir of 0 (every target gone), any regrowth is an increase.
                let relativeIncrease = fromNadir.map { $0 >= progressionIncrease } ?? (sum > 0)
                if !newMeasurable.isEmpty || (relativeIncrease && grewFiveMillimetres) {
                    category = .progressiveDisease
                } else if allGone {
                    category = .completeResponse
                } else if let fromBaseline, fromBaseline <= -partialResponseDecrease {
                    category = .partialResponse
                } else {
                    category = .stableDisease
                }
                let volumeFromBaseline = baseVolume > 0 ? (volume - baseVolume) / baseVolume : 0
                let volumeFromNadir = volumeNadir > 0 ? (volume - volumeNadir) / volumeNadir : (volume > 0 ? Double.infinity : 0)
                if !newMeasurable.isEmpty || volumeFromNadir >= volumetricProgressionIncrease {
                    volumetric = .progressiveDisease
                } else if allGone {
                    volumetric = .completeResponse
                } else if volumeFromBaseline <= -volumetricPartialResponseDecrease {
                    volumetric = .partialResponse
                } else {
                    volumetric = .stableDisease
                }
            }
            result.append(
                TimePoint(
                    category: category, volumetricCategory: volumetric, sumOfDiameters: sum, targetVolume: volume, nadir: nadir,
                    volumeNadir: volumeNadir, changeFromBaseline: fromBaseline, changeFromNadir: fromNadir,
                    newMeasurableTracks: newMeasurable))
            nadir = min(nadir, sum)
            volumeNadir = min(volumeNadir, volume)
            for lesion in lesions where targets.contains(lesion.track) {
                smallest[lesion.track] = min(smallest[lesion.track] ?? lesion.longestDiameter, lesion.longestDiameter)
            }
            // A target that disappeared counts as 0 mm for the 5 mm rule from then on.
            for track in targets where !lesions.contains(where: { $0.track == track }) { smallest[track] = 0 }
        }
        return result
    }
}
