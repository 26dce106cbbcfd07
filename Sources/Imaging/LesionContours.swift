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
    public static func contours(label: Int32, labels: [Int32], geometry: VolumeGeometry) -> [LesionContour] {
        let columns = geometry.columns, rows = geometry.rows, plane = columns * rows
        var contours = [LesionContour]()
        for slice in 0..<geometry.slices {
            let base = slice * plane
            var present = false
            for index in base..<base + plane where labels[index] == label {
                present = true
                break
            }
            guard present else { continue }
            let polygons = ContourTracer.trace(columns: columns, rows: rows) { column, row in labels[base + row * columns + column] == label }
            for polygon in polygons where polygon.corners.count >= 3 {
                let points = polygon.corners.map { corner in
                    geometry.position(column: Double(corner.x) - 0.5, row: Double(corner.y) - 0.5, slice: slice)
                }
                contours.append(LesionContour(slice: slice, points: points, isHole: polygon.isHole))
            }
        }
        return contours
    }
}
