public import Imaging

/// A lesion detector: a binary mask of lesion voxels on the volume's grid.
public protocol SegmentationEngine: Sendable {
    /// The name written into outputs ("classical", "unetr").
    var name: String { get }
    var version: String { get }
    /// The mask, one Bool per voxel in the volume's order. `progress` receives
    /// fractions 0...1 of this stage.
    func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool]
}
