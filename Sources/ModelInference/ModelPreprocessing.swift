public import Imaging

/// A model card's MONAI pre-processing on a volume — orientation, spacing,
/// foreground crop, intensity — remembering each step so that a label map on
/// the model's grid can be taken back to the volume's grid (MONAI's
/// `Invertd` with nearest interpolation).
public struct ModelPreprocessing: Sendable {
    /// The image as the network sees it.
    public let image: Grid
    let sourceCoordinates: [[Double]]
    let orientation: Orientation
    let orientedCoordinates: [[Double]]
    let spacedCoordinates: [[Double]]
    let crop: ForegroundCrop

    public init(_ volume: Volume, card: ModelCard.Preprocessing) throws(ModelInferenceError) {
        let grid = volume.grid
        do {
            orientation = try Orientation.change(from: volume.axisDirections, to: card.orientation, shape: grid.shape)
            let oriented = orientation.apply(grid)
            let spaced = try Resampling.resample(oriented, spacing: SIMD3(card.spacing[0], card.spacing[1], card.spacing[2]), mode: .linear)
            crop =
                card.crop_foreground.map { ForegroundCrop.box(of: spaced, threshold: $0.threshold, margin: $0.margin) }
                ?? ForegroundCrop.box(of: spaced, threshold: -.infinity)
            var cropped = crop.apply(spaced)
            cropped.values = Self.intensity(card.intensity).map { $0(cropped.values) } ?? cropped.values
            image = cropped
            sourceCoordinates = grid.coordinates
            orientedCoordinates = oriented.coordinates
            spacedCoordinates = spaced.coordinates
        } catch {
            throw ModelInferenceError("the series cannot be prepared for the model: \(error.message)")
        }
    }

    static func intensity(_ intensity: ModelCard.Intensity) -> (([Float]) -> [Float])? {
        switch intensity.transform {
        case "NormalizeIntensity":
            return IntensityNormalization(nonzero: intensity.nonzero ?? false).apply
        case "ScaleIntensityRange":
            return IntensityScaling(
                aMin: intensity.a_min ?? 0, aMax: intensity.a_max ?? 1, bMin: intensity.b_min ?? 0, bMax: intensity.b_max ?? 1,
                clip: intensity.clip ?? false
            ).apply
        default:
            return nil
        }
    }

    /// A label map on `image`'s grid back on the volume's grid: uncropped
    /// (background 0 outside the crop), resampled by nearest neighbour, reoriented.
    public func invert(labels: Grid) -> Grid {
        let uncropped = crop.invert(labels, sourceCoordinates: spacedCoordinates, fill: 0)
        let unspaced = Resampling.onto(uncropped, coordinates: orientedCoordinates, mode: .nearest)
        return orientation.invert(unspaced, sourceCoordinates: sourceCoordinates)
    }
}
