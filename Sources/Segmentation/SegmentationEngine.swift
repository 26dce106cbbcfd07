import StructureSet
public import Imaging

/// One output label of an engine other than its lesions (a model's whole
/// tumour or oedema channel), written as its own ROI or segment.
public struct OutputLabel: Sendable, Equatable {
    public var name: String
    /// ROIDisplayColor, 0...255 each.
    public var color: Lesion.Color
    /// One Bool per voxel, in the volume's order.
    public var mask: [Bool]

    public init(name: String, color: Lesion.Color, mask: [Bool]) {
        self.name = name
        self.color = color
        self.mask = mask
    }
}

/// A lesion detector: a binary mask of lesion voxels on the volume's grid.
public protocol SegmentationEngine: Sendable {
    /// The name written into outputs ("classical", "unetr", "segresnet").
    var name: String { get }
    var version: String { get }
    /// The mask, one Bool per voxel in the volume's order. `progress` receives
    /// fractions 0...1 of this stage.
    func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool]
    /// The mask of an engine reading several series: `channels` holds one
    /// image per entry of `channels` (the first is `volume`'s own voxels), each on `volume`'s grid.
    func segment(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> [Bool]
    /// The lesion mask and the engine's other output labels (none for an engine that finds lesions only).
    func segmentLabels(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> (
        lesions: [Bool], labels: [OutputLabel]
    )
    /// The limits its components must meet to be reported (`LesionPlausibility.defaults` unless set).
    var plausibility: LesionPlausibility { get }
    /// What its results are, written into every output and shown next to them.
    var notice: String { get }
    /// RTROIInterpretedType of its ROIs; empty (DICOM type 2) unless a model card names one.
    var roiInterpretedType: String { get }
    /// The MR sequences it reads, one list per input channel, each in order of preference.
    var channels: [[SeriesChoice.Sequence]] { get }
}

extension SegmentationEngine {
    public var plausibility: LesionPlausibility { .defaults }
    public var notice: String { GeneratingAlgorithm.defaultNotice }
    public var roiInterpretedType: String { "" }
    public var channels: [[SeriesChoice.Sequence]] { [SeriesChoice.defaultSequences] }
    /// The sequences of its first (or only) input channel.
    public var sequences: [SeriesChoice.Sequence] { channels[0] }

    public func segment(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> [Bool] {
        try segment(volume, progress: progress)
    }

    public func segmentLabels(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> (
        lesions: [Bool], labels: [OutputLabel]
    ) {
        (try segment(volume, channels: channels, progress: progress), [])
    }
}
