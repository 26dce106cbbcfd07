import StructureSet
public import Imaging

/// A lesion detector: a binary mask of lesion voxels on the volume's grid.
public protocol SegmentationEngine: Sendable {
    /// The name written into outputs ("classical", "unetr").
    var name: String { get }
    var version: String { get }
    /// The mask, one Bool per voxel in the volume's order. `progress` receives
    /// fractions 0...1 of this stage.
    func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool]
    /// The limits its components must meet to be reported (`LesionPlausibility.defaults` unless set).
    var plausibility: LesionPlausibility { get }
    /// What its results are, written into every output and shown next to them.
    var notice: String { get }
    /// RTROIInterpretedType of its ROIs; empty (DICOM type 2) unless a model card names one.
    var roiInterpretedType: String { get }
    /// The MR sequences it reads, in order of preference.
    var sequences: [SeriesChoice.Sequence] { get }
}

extension SegmentationEngine {
    public var plausibility: LesionPlausibility { .defaults }
    public var notice: String { GeneratingAlgorithm.defaultNotice }
    public var roiInterpretedType: String { "" }
    public var sequences: [SeriesChoice.Sequence] { SeriesChoice.defaultSequences }
}
