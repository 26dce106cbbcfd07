/// What is measured of one lesion (one connected component of a mask).
public struct LesionMeasurement: Sendable, Equatable {
    /// Sum of the voxels' volumes (pixel area × the slice's thickness), mm³.
    public var volume: Double
    public var voxelCount: Int
    /// Longest distance between two voxel centres of the lesion, mm.
    public var longestDiameter: Double
    /// Longest in-plane distance on any one slice, mm (RANO-BM's measure).
    public var longestAxialDiameter: Double
    /// The lesion's extent on that slice perpendicular to the axial diameter, mm.
    public var perpendicularDiameter: Double
    /// Slice (0-based, in volume order) where the axial diameter was measured.
    public var axialDiameterSlice: Int
    /// Mean of the voxel centres, patient coordinates (LPS, mm).
    public var centroid: SIMD3<Double>
    public var firstSlice: Int
    public var lastSlice: Int
    /// Mean voxel value of the lesion in the image.
    public var meanIntensity: Double

    public init(
        volume: Double, voxelCount: Int, longestDiameter: Double, longestAxialDiameter: Double, perpendicularDiameter: Double,
        axialDiameterSlice: Int, centroid: SIMD3<Double>, firstSlice: Int, lastSlice: Int, meanIntensity: Double
    ) {
        self.volume = volume
        self.voxelCount = voxelCount
        self.longestDiameter = longestDiameter
        self.longestAxialDiameter = longestAxialDiameter
        self.perpendicularDiameter = perpendicularDiameter
        self.axialDiameterSlice = axialDiameterSlice
        self.centroid = centroid
        self.firstSlice = firstSlice
        self.lastSlice = lastSlice
        self.meanIntensity = meanIntensity
    }

    /// Measures component `label` of `labels` on `volume`'s grid; `bounds`
    /// (from `VoxelBounds.of`) limits the work to the lesion's box.
    public static func measure(label: Int32, labels: [Int32], volume: Volume, bounds: VoxelBounds? = nil) -> LesionMeasurement? {
        let geometry = volume.geometry
        let columns = geometry.columns, rows = geometry.rows
        let thicknesses = geometry.sliceThicknesses
        let pixelArea = geometry.rowSpacing * geometry.columnSpacing
        var count = 0, volumeSum = 0.0, intensity = 0.0
        var centroid = SIMD3<Double>(0, 0, 0)
        var first = Int.max, last = Int.min
        var bySlice = [Int: [(column: Int, row: Int)]]()
        var boundary = [SIMD3<Double>]()
        let box = bounds ?? VoxelBounds(minimum: SIMD3(0, 0, 0), maximum: SIMD3(columns - 1, rows - 1, geometry.slices - 1))
        for slice in box.minimum.z...box.maximum.z {
            for row in box.minimum.y...box.maximum.y {
                for column in box.minimum.x...box.maximum.x {
                    let index = (slice * rows + row) * columns + column
                    guard labels[index] == label else { continue }
                    let position = geometry.position(column: Double(column), row: Double(row), slice: slice)
                    count += 1
                    volumeSum += pixelArea * thicknesses[slice]
                    intensity += Double(volume.voxels[index])
                    centroid += position
                    first = min(first, slice)
                    last = max(last, slice)
                    bySlice[slice, default: []].append((column, row))
                    if isBoundary(index, column, row, slice, label: label, labels: labels, geometry: geometry) { boundary.append(position) }
                }
            }
        }
        guard count > 0 else { return nil }
        var longest = 0.0
        for a in boundary.indices {
            for b in boundary.indices where b > a {
                longest = max(longest, length(boundary[a] - boundary[b]))
            }
        }
        // Axial: the longest in-plane chord of any slice, and the caliper width perpendicular to it.
        var axial = 0.0, perpendicular = 0.0, axialSlice = first
        for (slice, pixels) in bySlice.sorted(by: { $0.key < $1.key }) {
            let points = pixels.map { SIMD2(Double($0.column) * geometry.columnSpacing, Double($0.row) * geometry.rowSpacing) }
            // The longest chord's ends lie on the slice's boundary pixels.
            let inside = Set(pixels.map { $0.row * columns + $0.column })
            let edge = pixels.indices.filter { i in
                let (c, r) = pixels[i]
                return
                    !(inside.contains(r * columns + c - 1) && inside.contains(r * columns + c + 1)
                    && inside.contains((r - 1) * columns + c) && inside.contains((r + 1) * columns + c)) || c == 0 || c == columns - 1
            }.map { points[$0] }
            var best = 0.0, direction = SIMD2<Double>(1, 0)
            for a in edge.indices {
                for b in edge.indices where b > a {
                    let d = edge[b] - edge[a]
                    let distance = (d * d).sum().squareRoot()
                    if distance > best {
                        best = distance
                        direction = d / distance
                    }
                }
            }
            if best > axial || slice == first {
                axial = best
                axialSlice = slice
                let normal = SIMD2(-direction.y, direction.x)
                let projections = points.map { ($0 * normal).sum() }
                perpendicular = (projections.max() ?? 0) - (projections.min() ?? 0)
            }
        }
        return LesionMeasurement(
            volume: volumeSum, voxelCount: count, longestDiameter: longest, longestAxialDiameter: axial,
            perpendicularDiameter: perpendicular,
            axialDiameterSlice: axialSlice, centroid: centroid / Double(count), firstSlice: first, lastSlice: last,
            meanIntensity: intensity / Double(count))
    }

    /// A voxel with a face neighbour outside the lesion (or on the volume's edge).
    private static func isBoundary(
        _ index: Int, _ column: Int, _ row: Int, _ slice: Int, label: Int32, labels: [Int32], geometry: VolumeGeometry
    ) -> Bool {
        let columns = geometry.columns, rows = geometry.rows, slices = geometry.slices
        if column == 0 || row == 0 || slice == 0 || column == columns - 1 || row == rows - 1 || slice == slices - 1 { return true }
        let plane = columns * rows
        return labels[index - 1] != label || labels[index + 1] != label || labels[index - columns] != label
            || labels[index + columns] != label || labels[index - plane] != label || labels[index + plane] != label
    }
}
