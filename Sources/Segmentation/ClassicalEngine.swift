public import Imaging

/// The classical lesion detector for contrast-enhanced T1 or FLAIR brain MR.
/// Deterministic, needs no weights; the fallback when none are installed and
/// the baseline the neural engine must beat. Steps (docs/segmentation.md):
///
/// 1. Head mask: voxels above an Otsu threshold of the non-zero intensities.
/// 2. Brain mask: the head mask eroded by `scalpMargin` mm (scalp, fat and
///    skull enhance too, and must not become lesions).
/// 3. Robust normalisation inside the brain: z = (v − median) / (1.4826 · MAD).
/// 4. Seeds: bright outliers, z ≥ `seedScore`.
/// 5. Edge refinement: each seed region grows over the voxels at or above the
///    half-maximum level between its core and the brain median — for a
///    blurred step, the level where the Sobel gradient peaks — and a region
///    whose border gradient is weaker than `minimumEdgeScore` (in z units per
///    voxel) is no lesion.
/// 6. Clean-up: holes filled slice by slice, components under `minimumVolume` mm³ dropped.
public struct ClassicalEngine: SegmentationEngine {
    public var name: String { "classical" }
    public var version: String { "1.0" }

    public var scalpMargin = 8.0
    public var seedScore = 5.0
    public var minimumEdgeScore = 1.0
    public var minimumVolume = 20.0

    public init() {}

    public func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool] {
        let geometry = volume.geometry
        let columns = geometry.columns, rows = geometry.rows, slices = geometry.slices
        let voxels = volume.voxels
        // 1–2. Head and brain masks.
        let positive = voxels.filter { $0 > 0 }
        guard !positive.isEmpty else { return [Bool](repeating: false, count: voxels.count) }
        let headThreshold = Statistics.otsu(positive)
        var brain = voxels.map { $0 > headThreshold }
        let margins = (
            x: Int((scalpMargin / geometry.columnSpacing).rounded(.up)), y: Int((scalpMargin / geometry.rowSpacing).rounded(.up)),
            z: Int((scalpMargin / (geometry.sliceThicknesses.reduce(0, +) / Double(slices))).rounded(.up))
        )
        brain = Morphology.fillHolesPerSlice(brain, columns: columns, rows: rows, slices: slices)
        brain = Morphology.erode(brain, columns: columns, rows: rows, slices: slices, radii: margins)
        progress(0.25)
        // 3. Robust statistics inside the brain.
        let inside = voxels.indices.filter { brain[$0] }.map { voxels[$0] }
        guard inside.count > 100 else { return [Bool](repeating: false, count: voxels.count) }
        let median = Statistics.median(inside)
        let mad = max(Statistics.median(inside.map { abs($0 - median) }), 1e-3 * max(abs(median), 1))
        let scale = 1.4826 * mad
        let score = voxels.map { ($0 - median) / scale }
        progress(0.4)
        // 4. Seeds.
        let seeds = score.indices.map { brain[$0] && score[$0] >= Float(seedScore) }
        let (seedLabels, seedCount) = ConnectedComponents.label(seeds, columns: columns, rows: rows, slices: slices)
        guard seedCount > 0 else { return [Bool](repeating: false, count: voxels.count) }
        // 5. Edge refinement: grow each seed region to its half-maximum level.
        var cores = [Float](repeating: 0, count: seedCount + 1)
        for index in seedLabels.indices where seedLabels[index] > 0 {
            cores[Int(seedLabels[index])] = max(cores[Int(seedLabels[index])], score[index])
        }
        var mask = [Bool](repeating: false, count: voxels.count)
        var queue = [Int]()
        var level = [Float](repeating: .infinity, count: voxels.count)
        for index in seedLabels.indices where seedLabels[index] > 0 {
            level[index] = cores[Int(seedLabels[index])] / 2
            mask[index] = true
            queue.append(index)
        }
        var head = 0
        while head < queue.count {
            let index = queue[head]
            head += 1
            let column = index % columns, row = (index / columns) % rows, slice = index / (columns * rows)
            for (dx, dy, dz) in [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)] {
                let x = column + dx, y = row + dy, z = slice + dz
                guard x >= 0, y >= 0, z >= 0, x < columns, y < rows, z < slices else { continue }
                let neighbour = (z * rows + y) * columns + x
                if !mask[neighbour], brain[neighbour], score[neighbour] >= level[index] {
                    mask[neighbour] = true
                    level[neighbour] = level[index]
                    queue.append(neighbour)
                }
            }
        }
        progress(0.7)
        // 6. Clean-up, and the edge check on what remains.
        mask = Morphology.fillHolesPerSlice(mask, columns: columns, rows: rows, slices: slices)
        let (labels, count) = ConnectedComponents.label(mask, columns: columns, rows: rows, slices: slices)
        let gradient = Sobel.magnitude(score, columns: columns, rows: rows, slices: slices)
        let thicknesses = geometry.sliceThicknesses
        let pixelArea = geometry.rowSpacing * geometry.columnSpacing
        var volumes = [Double](repeating: 0, count: count + 1)
        var edgeSum = [Double](repeating: 0, count: count + 1), edgeCount = [Int](repeating: 0, count: count + 1)
        for index in labels.indices where labels[index] > 0 {
            let label = Int(labels[index])
            volumes[label] += pixelArea * thicknesses[index / (columns * rows)]
            if Morphology.isSliceBorder(index, labels: labels, columns: columns, rows: rows) {
                edgeSum[label] += Double(gradient[index])
                edgeCount[label] += 1
            }
        }
        let kept = (0...count).map { label in
            label > 0 && volumes[label] >= minimumVolume && edgeSum[label] / Double(max(edgeCount[label], 1)) >= minimumEdgeScore
        }
        progress(1)
        return labels.map { kept[Int($0)] }
    }
}
