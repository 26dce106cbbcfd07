/// Samples on a rectilinear grid: the working form of a volume for
/// reorientation, resampling, intensity scaling and cropping (what MONAI's
/// transforms do before a network). Axis 0 varies fastest. Each axis keeps
/// the position (mm, ascending) of every sample, so uneven slice spacing is
/// exact rather than averaged.
public struct Grid: Sendable, Equatable {
    public var shape: SIMD3<Int>
    public var values: [Float]
    /// Per axis, the position of each sample along it (mm, ascending).
    public var coordinates: [[Double]]

    public init(shape: SIMD3<Int>, values: [Float], coordinates: [[Double]]) {
        precondition(values.count == shape.x * shape.y * shape.z, "value count does not match the shape")
        precondition(
            coordinates.count == 3 && (0..<3).allSatisfy { coordinates[$0].count == shape[$0] }, "coordinates do not match the shape")
        self.shape = shape
        self.values = values
        self.coordinates = coordinates
    }

    @inline(__always)
    public func index(_ i: Int, _ j: Int, _ k: Int) -> Int { (k * shape.y + j) * shape.x + i }

    public subscript(i: Int, j: Int, k: Int) -> Float {
        get { values[index(i, j, k)] }
        set { values[index(i, j, k)] = newValue }
    }
}

extension Volume {
    /// The volume as a grid: axis 0 along rows (columns index), axis 1 down
    /// columns (rows index), axis 2 along the slice normal, positions from the first sample.
    public var grid: Grid {
        let locations = geometry.sliceLocations
        return Grid(
            shape: SIMD3(columns, rows, slices), values: voxels,
            coordinates: [
                (0..<columns).map { Double($0) * geometry.columnSpacing }, (0..<rows).map { Double($0) * geometry.rowSpacing },
                locations.map { $0 - locations[0] },
            ])
    }

    /// Patient directions (LPS) of the grid's axes 0, 1, 2.
    public var axisDirections: [SIMD3<Double>] { [geometry.rowDirection, geometry.columnDirection, geometry.normal] }
}
