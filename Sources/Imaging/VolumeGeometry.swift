/// Where a volume's voxels lie in the patient (LPS, mm): the image plane
/// axes, pixel spacing, and the position of every slice, so that oblique
/// planes, non-square pixels and uneven slice spacing are all exact.
///
/// Voxel (column i, row j, slice k) has its centre at
/// `slicePositions[k] + i * columnSpacing * rowDirection + j * rowSpacing * columnDirection`
/// (PS3.3 C.7.6.2.1.1: the first ImageOrientationPatient triplet is the
/// direction of increasing column index, PixelSpacing is row spacing first).
public struct VolumeGeometry: Sendable, Equatable {
    public let columns: Int
    public let rows: Int
    /// Direction of increasing column index (ImageOrientationPatient[0...2]).
    public let rowDirection: SIMD3<Double>
    /// Direction of increasing row index (ImageOrientationPatient[3...5]).
    public let columnDirection: SIMD3<Double>
    /// Distance between adjacent rows (PixelSpacing[0]), mm.
    public let rowSpacing: Double
    /// Distance between adjacent columns (PixelSpacing[1]), mm.
    public let columnSpacing: Double
    /// ImagePositionPatient of each slice, in increasing order along `normal`.
    public let slicePositions: [SIMD3<Double>]

    public init(
        columns: Int, rows: Int, rowDirection: SIMD3<Double>, columnDirection: SIMD3<Double>, rowSpacing: Double, columnSpacing: Double,
        slicePositions: [SIMD3<Double>]
    ) {
        self.columns = columns
        self.rows = rows
        self.rowDirection = rowDirection
        self.columnDirection = columnDirection
        self.rowSpacing = rowSpacing
        self.columnSpacing = columnSpacing
        self.slicePositions = slicePositions
    }

    public var slices: Int { slicePositions.count }

    /// The slice normal, rowDirection × columnDirection.
    public var normal: SIMD3<Double> { cross(rowDirection, columnDirection) }

    /// The patient position of a point given in (fractional) voxel indices on slice `slice`.
    public func position(column: Double, row: Double, slice: Int) -> SIMD3<Double> {
        slicePositions[slice] + column * columnSpacing * rowDirection + row * rowSpacing * columnDirection
    }

    /// Distance of each slice along the normal, mm.
    public var sliceLocations: [Double] { slicePositions.map { dot($0, normal) } }

    /// The thickness each slice stands for: half the gaps to its neighbours
    /// (the single gap at either end); 1 mm for a single slice.
    public var sliceThicknesses: [Double] {
        let locations = sliceLocations
        guard locations.count > 1 else { return [1] }
        return locations.indices.map { k in
            let below = k > 0 ? locations[k] - locations[k - 1] : locations[k + 1] - locations[k]
            let above = k < locations.count - 1 ? locations[k + 1] - locations[k] : below
            return (below + above) / 2
        }
    }
}

func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }

func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

func length(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }
