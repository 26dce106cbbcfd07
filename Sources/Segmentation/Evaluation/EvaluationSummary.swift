import Foundation

/// The figures `metis evaluate` reports over a set of cases, and the targets
/// a default engine must meet (docs/segmentation.md).
public struct EvaluationSummary: Sendable, Codable, Equatable {
    /// Found ÷ total for one group of truth lesions.
    public struct Sensitivity: Sendable, Codable, Equatable {
        public var found: Int
        public var lesions: Int
        public var value: Double? { lesions == 0 ? nil : Double(found) / Double(lesions) }
    }

    public var cases: Int
    public var casesWithLesions: Int
    public var lesions: Int
    /// Mean of the per-case voxel Dice over cases with lesions.
    public var meanDice: Double?
    /// Dice over all voxels of all cases.
    public var diceAllVoxels: Double?
    public var sensitivity: Sensitivity
    /// By the truth lesion's longest diameter: < 5, 5–10, 10–20, ≥ 20 mm, and ≥ 5 mm.
    public var sensitivityUnder5mm: Sensitivity
    public var sensitivity5to10mm: Sensitivity
    public var sensitivity10to20mm: Sensitivity
    public var sensitivity20mmAndMore: Sensitivity
    public var sensitivity5mmAndMore: Sensitivity
    public var falsePositivesPerCase: Double
    public var maximumFalsePositivesInACase: Int
    public var largestFalsePositiveMm3: Double
    public var falsePositivesOutsideIntracranialVolume: Int
    /// Matched lesions: mean |reported − truth| ÷ truth volume, and mean |reported − truth| longest diameter (mm).
    public var meanRelativeVolumeError: Double?
    public var meanLongestDiameterErrorMm: Double?
    public var healthyCasesWithFalsePositives: Int
    /// Metis's intracranial mask: mean share of the truth's intracranial volume it covers, and mean share of it outside.
    public var meanIntracranialCoverage: Double?
    public var meanIntracranialLeak: Double?
    public var meanSecondsPerCase: Double

    /// The JSON names (`metis evaluate --out`, a model card's `evaluation`), written out: digits make key conversion ambiguous.
    enum CodingKeys: String, CodingKey {
        case cases
        case casesWithLesions = "cases_with_lesions"
        case lesions
        case meanDice = "mean_dice"
        case diceAllVoxels = "dice_all_voxels"
        case sensitivity
        case sensitivityUnder5mm = "sensitivity_under_5mm"
        case sensitivity5to10mm = "sensitivity_5_to_10mm"
        case sensitivity10to20mm = "sensitivity_10_to_20mm"
        case sensitivity20mmAndMore = "sensitivity_20mm_and_more"
        case sensitivity5mmAndMore = "sensitivity_5mm_and_more"
        case falsePositivesPerCase = "false_positives_per_case"
        case maximumFalsePositivesInACase = "maximum_false_positives_in_a_case"
        case largestFalsePositiveMm3 = "largest_false_positive_mm3"
        case falsePositivesOutsideIntracranialVolume = "false_positives_outside_intracranial_volume"
        case meanRelativeVolumeError = "mean_relative_volume_error"
        case meanLongestDiameterErrorMm = "mean_longest_diameter_error_mm"
        case healthyCasesWithFalsePositives = "healthy_cases_with_false_positives"
        case meanIntracranialCoverage = "mean_intracranial_coverage"
        case meanIntracranialLeak = "mean_intracranial_leak"
        case meanSecondsPerCase = "mean_seconds_per_case"
    }

    public init(_ cases: [CaseEvaluation]) {
        let lesions = cases.flatMap(\.lesions)
        func found(_ range: Range<Double>) -> Sensitivity {
            let group = lesions.filter { range.contains($0.diameterMm) }
            return Sensitivity(found: group.filter(\.found).count, lesions: group.count)
        }
        let withLesions = cases.filter { $0.truthVoxels > 0 }
        let dices = withLesions.compactMap(\.dice)
        let intersection = cases.reduce(0) { $0 + $1.intersectionVoxels }
        let total = cases.reduce(0) { $0 + $1.truthVoxels + $1.predictedVoxels }
        let matched = lesions.filter { $0.matchedVolumeMm3 != nil }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        self.cases = cases.count
        casesWithLesions = withLesions.count
        self.lesions = lesions.count
        meanDice = mean(dices)
        diceAllVoxels = total == 0 ? nil : 2 * Double(intersection) / Double(total)
        self.sensitivity = found(0..<Double.infinity)
        sensitivityUnder5mm = found(0..<5)
        sensitivity5to10mm = found(5..<10)
        sensitivity10to20mm = found(10..<20)
        sensitivity20mmAndMore = found(20..<Double.infinity)
        sensitivity5mmAndMore = found(5..<Double.infinity)
        let falsePositives = cases.map(\.falsePositives.count)
        falsePositivesPerCase = cases.isEmpty ? 0 : Double(falsePositives.reduce(0, +)) / Double(cases.count)
        maximumFalsePositivesInACase = falsePositives.max() ?? 0
        largestFalsePositiveMm3 = cases.flatMap(\.falsePositives).map(\.volumeMm3).max() ?? 0
        falsePositivesOutsideIntracranialVolume = cases.flatMap(\.falsePositives).filter(\.outsideIntracranialVolume).count
        meanRelativeVolumeError = mean(matched.map { abs($0.matchedVolumeMm3! - $0.volumeMm3) / $0.volumeMm3 })
        meanLongestDiameterErrorMm = mean(matched.map { abs($0.matchedDiameterMm! - $0.diameterMm) })
        healthyCasesWithFalsePositives = cases.filter { $0.truthVoxels == 0 && !$0.falsePositives.isEmpty }.count
        meanSecondsPerCase = mean(cases.map(\.seconds)) ?? 0
        meanIntracranialCoverage = mean(cases.compactMap(\.intracranialCoverage))
        meanIntracranialLeak = mean(cases.compactMap(\.intracranialLeak))
    }

    /// The targets of a default engine: lesion sensitivity ≥ 0.9 for lesions
    /// of 5 mm and more, ≤ 1 false positive per case on average and ≤ 3 in
    /// any case, none outside the intracranial volume, mean Dice ≥ 0.8 on
    /// cases with lesions. Returns the ones missed, in words; empty: all met.
    public var missedTargets: [String] {
        var missed = [String]()
        if let value = sensitivity5mmAndMore.value, value < 0.9 {
            missed.append(String(format: "sensitivity for lesions of 5 mm and more %.2f < 0.9", value))
        }
        if falsePositivesPerCase > 1 { missed.append(String(format: "%.2f false positives per case > 1", falsePositivesPerCase)) }
        if maximumFalsePositivesInACase > 3 { missed.append("\(maximumFalsePositivesInACase) false positives in one case > 3") }
        if falsePositivesOutsideIntracranialVolume > 0 {
            missed.append("\(falsePositivesOutsideIntracranialVolume) false positives outside the intracranial volume")
        }
        if let dice = meanDice, dice < 0.8 { missed.append(String(format: "mean Dice %.3f < 0.8", dice)) }
        return missed
    }
}
