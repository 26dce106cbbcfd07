public import Imaging

/// A model card's MONAI pre-processing on the channels of one volume —
/// orientation, spacing, foreground crop, intensity — remembering each step
/// so that a label map on the model's grid can be taken back to the volume's
/// grid (MONAI's `Invertd` with nearest interpolation). Every channel lies on
/// the first one's grid (`Volume.resampled(onto:)`), so one reorientation,
/// one resampling and one crop serve them all, as MONAI's transforms do on a
/// multi-channel image.
public struct ModelPreprocessing: Sendable {
    /// The channels as the network sees them, on one grid.
    public let channels: [Grid]
    let sourceCoordinates: [[Double]]
    let orientation: Orientation
    let orientedCoordinates: [[Double]]
    let spacedCoordinates: [[Double]]
    let crop: ForegroundCrop

    /// The first channel, whose grid every channel shares.
    public var image: Grid { channels[0] }

    public init(_ volume: Volume, card: ModelCard.Preprocessing) throws(ModelInferenceError) {
        try self.init(channels: [volume.voxels], of: volume, card: card)
    }

    /// `channels`: voxel values on `volume`'s grid, the first usually `volume.voxels`.
    public init(channels: [[Float]], of volume: Volume, card: ModelCard.Preprocessing) throws(ModelInferenceError) {
        let grid = volume.grid
        do {
            orientation = try Orientation.change(from: volume.axisDirections, to: card.orientation, shape: grid.shape)
            let spacing = SIMD3(card.spacing[0], card.spacing[1], card.spacing[2])
            var oriented = grid, spaced = [Grid]()
            for values in channels {
                var channel = grid
                channel.values = values
                oriented = orientation.apply(channel)
                spaced.append(try Resampling.resample(oriented, spacing: spacing, mode: .linear))
            }
            // MONAI's CropForeground keeps the box of voxels above the threshold in any channel.
            crop = ForegroundCrop.box(
                of: spaced, threshold: card.crop_foreground?.threshold ?? -.infinity, margin: card.crop_foreground?.margin ?? 0)
            var cropped = spaced.map(crop.apply)
            if let transform = Self.intensity(card.intensity) {
                if card.intensity.channel_wise ?? false || cropped.count == 1 {
                    for index in cropped.indices { cropped[index].values = transform(cropped[index].values) }
                } else {
                    // Statistics over every channel at once, as MONAI without channel_wise.
                    let all = transform(cropped.flatMap(\.values))
                    let count = cropped[0].values.count
                    for index in cropped.indices { cropped[index].values = Array(all[index * count..<(index + 1) * count]) }
                }
            }
            self.channels = cropped
            sourceCoordinates = grid.coordinates
            orientedCoordinates = oriented.coordinates
            spacedCoordinates = spaced[0].coordinates
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
    public func invert(labels: Grid) -> Grid { invert(labels, mode: .nearest) }

    /// A map on `image`'s grid back on the volume's grid: uncropped (0
    /// outside the crop), resampled (`.linear` for probabilities, as MONAI's
    /// `Invertd` with `nearest_interp` false), reoriented.
    public func invert(_ grid: Grid, mode: Resampling.Mode) -> Grid {
        let uncropped = crop.invert(grid, sourceCoordinates: spacedCoordinates, fill: 0)
        let unspaced = Resampling.onto(uncropped, coordinates: orientedCoordinates, mode: mode)
        return orientation.invert(unspaced, sourceCoordinates: sourceCoordinates)
    }
}
