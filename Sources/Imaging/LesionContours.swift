/// The planar contours of one labelled lesion, slice by slice, in patient coordinates.
public struct LesionContour: Sendable, Equatable {
    /// Slice index in the volume (and so the source image the contour lies on).
    public var slice: Int
    /// Closed polygon, last point not repeated, patient coordinates (LPS, mm).
    public var points: [SIMD3<Double>]
    public var isHole: Bool
}

extension LesionContour {
    /// Contours of component `label`, traced along voxel edges on each slice
    /// where the lesion appears, placed with that slice's own position.
    /// `bounds` (from `VoxelBounds.of`) limits the work to the lesion's box.
    public static func contours(label: Int32, labels: [Int32], geometry: VolumeGeometry, bounds: VoxelBounds? = nil) -> [LesionContour] {
        let columns = geometry.columns, rows = geometry.rows, plane = columns * rows
        let box = bounds ?? VoxelBounds(minimum: SIMD3(0, 0, 0), maximum: SIMD3(columns - 1, rows - 1, geometry.slices - 1))
        let width = box.maximum.x - box.minimum.x + 1, height = box.maximum.y - box.minimum.y + 1
        var contours = [LesionContour]()
        for slice in box.minimum.z...box.maximum.z {
            let base = slice * plane + box.minimum.y * columns + box.minimum.x
            var present = false
            for row in 0..<height where !present {
                for column in 0..<width where labels[base + row * columns + column] == label {
                    present = true
                    break
                }
            }
            guard present else { continue }
            let polygons = ContourTracer.trace(columns: width, rows: height) { column, row in labels[base + row * columns + column] == label
            }
            for polygon in polygons where polygon.corners.count >= 3 {
                let points = polygon.corners.map { corner in
                    geometry.position(
                        column: Double(corner.x + box.minimum.x) - 0.5, row: Double(corner.y + box.minimum.y) - 0.5, slice: slice)
                }
                contours.append(LesionContour(slice: slice, points: points, isHole: polygon.isHole))
            }
        }
        return contours
    }
}
