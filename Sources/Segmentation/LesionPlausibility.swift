public import Imaging
import Foundation

/// What a lesion candidate must be to be reported as a metastasis, and the
/// candidates that were not. Engines find components; these rules drop the
/// ones no metastasis could be: outside the intracranial volume, larger than
/// any metastasis, lining the inner skull, or drawn out like a vessel. The limits come from the model
/// card (`postprocessing.plausibility`) or the engine's settings; every
/// rejected component is reported with its reason, so that a large real
/// lesion is never dropped silently.
public struct LesionPlausibility: Sendable, Codable, Equatable {
    /// A component with a smaller share of its voxels inside the intracranial
    /// mask is dropped; a kept one loses its voxels outside the mask.
    public var minimum_inside_fraction: Double?
    /// Larger components are dropped, cm³ (a 40 mm sphere is 34 cm³).
    public var maximum_volume_ml: Double?
    /// A component covering more than this share of the mask's inner-surface
    /// band (`inner_surface_depth_mm` deep) is dropped: dura, skull or scalp,
    /// not a lesion.
    public var maximum_inner_surface_fraction: Double?
    public var inner_surface_depth_mm: Double?
    /// A component whose longest diameter is more than this many times the
    /// diameter of a sphere of its volume is dropped: an enhancing vessel or
    /// sinus, not a metastasis (a sphere is 1; a cylinder 10 times longer
    /// than wide, about 4).
    public var maximum_elongation: Double?

    public init(
        minimum_inside_fraction: Double? = nil, maximum_volume_ml: Double? = nil, maximum_inner_surface_fraction: Double? = nil,
        inner_surface_depth_mm: Double? = nil, maximum_elongation: Double? = nil
    ) {
        self.minimum_inside_fraction = minimum_inside_fraction
        self.maximum_volume_ml = maximum_volume_ml
        self.maximum_inner_surface_fraction = maximum_inner_surface_fraction
        self.inner_surface_depth_mm = inner_surface_depth_mm
        self.maximum_elongation = maximum_elongation
    }

    /// The limits where a card or setting names none. `maximum_elongation`
    /// was chosen on the training generators' validation sets (the largest
    /// true lesion there: 2.1), never on the held-out generator.
    public static let defaults = LesionPlausibility(
        minimum_inside_fraction: 0.5, maximum_volume_ml: 100, maximum_inner_surface_fraction: 0.15, inner_surface_depth_mm: 5,
        maximum_elongation: 3)

    /// These limits, each one missing taken from `defaults`.
    public var completed: LesionPlausibility {
        let d = Self.defaults
        return LesionPlausibility(
            minimum_inside_fraction: minimum_inside_fraction ?? d.minimum_inside_fraction,
            maximum_volume_ml: maximum_volume_ml ?? d.maximum_volume_ml,
            maximum_inner_surface_fraction: maximum_inner_surface_fraction ?? d.maximum_inner_surface_fraction,
            inner_surface_depth_mm: inner_surface_depth_mm ?? d.inner_surface_depth_mm,
            maximum_elongation: maximum_elongation ?? d.maximum_elongation)
    }

    /// A component the rules dropped.
    public struct Rejection: Sendable, Equatable {
        public enum Reason: Sendable, Equatable {
            /// Share of its voxels inside the intracranial mask.
            case outsideIntracranialVolume(insideFraction: Double)
            case tooLarge(volumeMl: Double)
            /// Share of the inner-surface band it covers.
            case liningInnerSkull(fraction: Double)
            /// Longest diameter over the diameter of a sphere of the same volume.
            case elongated(ratio: Double)
        }

        public var reason: Reason
        public var volume: Double
        public var voxelCount: Int
        /// Patient coordinates (LPS, mm).
        public var centroid: SIMD3<Double>

        /// The reason in words, for reports.
        public var explanation: String {
            switch reason {
            case .outsideIntracranialVolume(let inside):
                "outside the intracranial volume (\(Int((inside * 100).rounded())) % inside)"
            case .tooLarge(let ml):
                "larger than a metastasis (\(String(format: "%.1f", ml)) cm³)"
            case .liningInnerSkull(let fraction):
                "lines the inner skull (\(Int((fraction * 100).rounded())) % of its surface)"
            case .elongated(let ratio):
                "drawn out like a vessel (longest diameter \(String(format: "%.1f", ratio)) times that of a sphere of its volume)"
            }
        }

        public init(reason: Reason, volume: Double, voxelCount: Int, centroid: SIMD3<Double>) {
            self.reason = reason
            self.volume = volume
            self.voxelCount = voxelCount
            self.centroid = centroid
        }

        /// A short code for JSON and protobuf.
        public var code: String {
            switch reason {
            case .outsideIntracranialVolume: "outside_intracranial_volume"
            case .tooLarge: "too_large"
            case .liningInnerSkull: "lining_inner_skull"
            case .elongated: "elongated"
            }
        }
    }
}

extension LesionPlausibility.Rejection.Reason {
    /// The figure the rule measured: the inside share, cm³, the lining share or the elongation.
    public var measure: Double {
        switch self {
        case .outsideIntracranialVolume(let inside): inside
        case .tooLarge(let ml): ml
        case .liningInnerSkull(let fraction): fraction
        case .elongated(let ratio): ratio
        }
    }

    /// The reason a `code` and its `measure` name; nil for an unknown code.
    public init?(code: String, measure: Double) {
        switch code {
        case "outside_intracranial_volume": self = .outsideIntracranialVolume(insideFraction: measure)
        case "too_large": self = .tooLarge(volumeMl: measure)
        case "lining_inner_skull": self = .liningInnerSkull(fraction: measure)
        case "elongated": self = .elongated(ratio: measure)
        default: return nil
        }
    }
}

extension LesionPlausibility.Rejection: Encodable {
    private enum CodingKeys: String, CodingKey {
        case reason, explanation, measure, volumeMm3, voxelCount, centroidMm
    }

    /// The report's form: `reason` is the code, `explanation` the words.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .reason)
        try container.encode(explanation, forKey: .explanation)
        try container.encode(reason.measure, forKey: .measure)
        try container.encode(volume, forKey: .volumeMm3)
        try container.encode(voxelCount, forKey: .voxelCount)
        try container.encode([centroid.x, centroid.y, centroid.z], forKey: .centroidMm)
    }
}

extension LesionPlausibility {
    /// The engine's mask reduced to plausible lesions, and what was dropped.
    public func apply(_ mask: [Bool], intracranial: [Bool], volume: Volume) -> (mask: [Bool], rejected: [Rejection]) {
        let limits = completed
        let geometry = volume.geometry
        let columns = geometry.columns, rows = geometry.rows, slices = geometry.slices
        let (labels, count) = ConnectedComponents.label(mask, columns: columns, rows: rows, slices: slices)
        guard count > 0 else { return (mask, []) }
        let spacing = (x: geometry.columnSpacing, y: geometry.rowSpacing, z: geometry.sliceThicknesses.reduce(0, +) / Double(slices))
        let core = Morphology.erode(
            intracranial, columns: columns, rows: rows, slices: slices,
            radii: Morphology.radii(limits.inner_surface_depth_mm!, spacing: spacing, minimum: 1))
        let thicknesses = geometry.sliceThicknesses
        let pixelArea = geometry.rowSpacing * geometry.columnSpacing
        var voxels = [Int](repeating: 0, count: count + 1), inside = voxels, onSurface = voxels
        var volumes = [Double](repeating: 0, count: count + 1)
        var centroids = [SIMD3<Double>](repeating: .zero, count: count + 1)
        var band = 0
        let plane = columns * rows
        for index in labels.indices {
            let surface = intracranial[index] && !core[index]
            if surface { band += 1 }
            let label = Int(labels[index])
            guard label > 0 else { continue }
            let slice = index / plane
            voxels[label] += 1
            volumes[label] += pixelArea * thicknesses[slice]
            centroids[label] += geometry.position(column: Double(index % columns), row: Double((index / columns) % rows), slice: slice)
            if intracranial[index] { inside[label] += 1 }
            if surface { onSurface[label] += 1 }
        }
        var keep = [Bool](repeating: false, count: count + 1)
        var rejected = [Rejection]()
        let bounds = VoxelBounds.of(labels, count: count, columns: columns, rows: rows)
        /// Longest diameter over the diameter of a sphere of the component's volume.
        func elongation(_ label: Int) -> Double {
            guard let measurement = LesionMeasurement.measure(label: Int32(label), labels: labels, volume: volume, bounds: bounds[label])
            else { return 0 }
            let sphere = cbrt(6 * measurement.volume / Double.pi)
            return sphere > 0 ? measurement.longestDiameter / sphere : 0
        }
        for label in 1...count {
            let insideFraction = Double(inside[label]) / Double(voxels[label])
            let surfaceFraction = band > 0 ? Double(onSurface[label]) / Double(band) : 0
            let reason: Rejection.Reason? =
                if insideFraction < limits.minimum_inside_fraction! {
                    .outsideIntracranialVolume(insideFraction: insideFraction)
                } else if volumes[label] / 1000 > limits.maximum_volume_ml! {
                    .tooLarge(volumeMl: volumes[label] / 1000)
                } else if surfaceFraction > limits.maximum_inner_surface_fraction! {
                    .liningInnerSkull(fraction: surfaceFraction)
                } else if case let ratio = elongation(label), ratio > limits.maximum_elongation! {
                    .elongated(ratio: ratio)
                } else {
                    nil
                }
            if let reason {
                rejected.append(
                    Rejection(
                        reason: reason, volume: volumes[label], voxelCount: voxels[label],
                        centroid: centroids[label] / Double(voxels[label])))
            } else {
                keep[label] = true
            }
        }
        return (labels.indices.map { keep[Int(labels[$0])] && intracranial[$0] }, rejected)
    }
}
