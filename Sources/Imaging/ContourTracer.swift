/// Closed planar contours of a mask slice, traced along voxel edges
/// (marching squares on the pixel grid): a polygon follows the outside
/// border of the pixels, so a lesion's contour encloses exactly its pixels,
/// and each hole is a contour of its own. Vertices are pixel corners,
/// collinear ones merged.
public enum ContourTracer {
    /// A closed polygon in pixel-corner coordinates: (column, row) of the
    /// top-left corner of pixel (column, row) is (column - 0.5, row - 0.5) in
    /// voxel index space.
    public struct Polygon: Sendable, Equatable {
        /// Corners as (x, y) = (column, row) grid points, 0...columns × 0...rows.
        public var corners: [SIMD2<Int>]
        /// Outer borders run one way, holes the other.
        public var isHole: Bool
    }

    /// The polygons of the pixels where `inside(column, row)` holds.
    /// Pixels that touch only at a corner get separate polygons.
    public static func trace(columns: Int, rows: Int, inside: (Int, Int) -> Bool) -> [Polygon] {
        func pixel(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < columns && y < rows && inside(x, y) }
        // Directed border edges with the inside on the left (y grows downward):
        // each edge keyed by its start corner; direction 0 right, 1 down, 2 left, 3 up.
        var outgoing = [Int: [Int]]()  // corner key → directions
        let width = columns + 1
        func key(_ x: Int, _ y: Int) -> Int { y * width + x }
        for y in 0..<rows {
            for x in 0..<columns where pixel(x, y) {
                if !pixel(x, y - 1) { outgoing[key(x + 1, y), default: []].append(2) }  // top edge, leftward
                if !pixel(x, y + 1) { outgoing[key(x, y + 1), default: []].append(0) }  // bottom edge, rightward
                if !pixel(x - 1, y) { outgoing[key(x, y), default: []].append(1) }  // left edge, downward
                if !pixel(x + 1, y) { outgoing[key(x + 1, y + 1), default: []].append(3) }  // right edge, upward
            }
        }
        let steps = [SIMD2(1, 0), SIMD2(0, 1), SIMD2(-1, 0), SIMD2(0, -1)]
        var polygons = [Polygon]()
        // Each loop starts at the smallest corner left, for a deterministic order.
        while let startKey = outgoing.keys.min() {
            let start = SIMD2(startKey % width, startKey / width)
            var corner = start
            var direction = -1
            var path = [SIMD2<Int>]()
            var area = 0
            repeat {
                let currentKey = key(corner.x, corner.y)
                var choices = outgoing[currentKey]!
                // Where two borders meet at a corner (diagonal pixels), turn
                // towards the inside, so that diagonal pixels stay apart.
                let chosen =
                    direction < 0
                    ? choices.min()!
                    : [(direction + 3) % 4, direction, (direction + 1) % 4].first(where: choices.contains)!
                choices.remove(at: choices.firstIndex(of: chosen)!)
                outgoing[currentKey] = choices.isEmpty ? nil : choices
                if chosen != direction { path.append(corner) }
                direction = chosen
                let next = corner &+ steps[direction]
                area += corner.x * next.y - next.x * corner.y
                corner = next
            } while corner != start
            // The start corner is no vertex when the loop ends going the way it began.
            if path.count > 1, direction == directionBetween(path[0], path[1]) { path.removeFirst() }
            // Inside on the left with y downward: outer borders have a negative shoelace sum.
            polygons.append(Polygon(corners: path, isHole: area > 0))
        }
        return polygons
    }

    private static func directionBetween(_ a: SIMD2<Int>, _ b: SIMD2<Int>) -> Int {
        let d = b &- a
        if d.x > 0 { return 0 }
        if d.y > 0 { return 1 }
        if d.x < 0 { return 2 }
        return 3
    }
}
