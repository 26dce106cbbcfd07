/// Reorientation to named axis codes (MONAI's `Orientation`, e.g. "RAS"):
/// the grid's axes are permuted and flipped so that axis n points towards
/// the n-th code's direction — the patient axis nearest to it for oblique
/// planes. Only permutes and flips, so `invert` restores the grid exactly.
public struct Orientation: Sendable, Equatable {
    /// Source axis of each output axis.
    public let permutation: [Int]
    /// Whether output axis n runs against its source axis.
    public let flipped: [Bool]
    /// The input grid's shape and coordinates, to invert to.
    let sourceShape: SIMD3<Int>

    /// The change that brings a grid whose axes point along `directions` (LPS) to `codes` ("RAS", "LPS", "PLI"…).
    public static func change(from directions: [SIMD3<Double>], to codes: String, shape: SIMD3<Int>) throws(ImagingError) -> Orientation {
        let letters = Array(codes.uppercased())
        // LPS: +x left, +y posterior, +z superior.
        let table: [Character: (axis: Int, sign: Double)] = [
            "L": (0, 1), "R": (0, -1), "P": (1, 1), "A": (1, -1), "S": (2, 1), "I": (2, -1),
        ]
        guard letters.count == 3, let targets = Optional(letters.compactMap { table[$0] }), targets.count == 3,
            Set(targets.map(\.axis)).count == 3
        else {
            throw ImagingError(.invalidArgument, "'\(codes)' is not three axis codes, one each of R/L, A/P, S/I")
        }
        // The patient axis each grid axis is closest to, and its sign.
        let dominant = directions.map { direction -> (axis: Int, sign: Double) in
            let magnitudes = [abs(direction.x), abs(direction.y), abs(direction.z)]
            let axis = magnitudes.firstIndex(of: magnitudes.max()!)!
            return (axis, direction[axis] >= 0 ? 1 : -1)
        }
        guard Set(dominant.map(\.axis)).count == 3 else {
            throw ImagingError(.invalidArgument, "two grid axes are closest to the same patient axis; the orientation is ambiguous")
        }
        var permutation = [Int](), flipped = [Bool]()
        for target in targets {
            let source = dominant.firstIndex { $0.axis == target.axis }!
            permutation.append(source)
            flipped.append(dominant[source].sign != target.sign)
        }
        return Orientation(permutation: permutation, flipped: flipped, sourceShape: shape)
    }

    /// The reoriented grid.
    public func apply(_ grid: Grid) -> Grid {
        let shape = SIMD3(grid.shape[permutation[0]], grid.shape[permutation[1]], grid.shape[permutation[2]])
        var values = [Float](repeating: 0, count: grid.values.count)
        var source = SIMD3<Int>(0, 0, 0)
        var out = 0
        for k in 0..<shape.z {
            source[permutation[2]] = flipped[2] ? shape.z - 1 - k : k
            for j in 0..<shape.y {
                source[permutation[1]] = flipped[1] ? shape.y - 1 - j : j
                for i in 0..<shape.x {
                    source[permutation[0]] = flipped[0] ? shape.x - 1 - i : i
                    values[out] = grid.values[grid.index(source.x, source.y, source.z)]
                    out += 1
                }
            }
        }
        let coordinates = (0..<3).map { axis -> [Double] in
            let original = grid.coordinates[permutation[axis]]
            guard flipped[axis] else { return original }
            // Reversed and mirrored so positions stay ascending with the same gaps.
            let last = original.last ?? 0
            return original.reversed().map { last - $0 }
        }
        return Grid(shape: shape, values: values, coordinates: coordinates)
    }

    /// The grid back in the source orientation (exact).
    public func invert(_ grid: Grid, sourceCoordinates: [[Double]]) -> Grid {
        var values = [Float](repeating: 0, count: grid.values.count)
        var target = SIMD3<Int>(0, 0, 0)
        var index = 0
        for k in 0..<grid.shape.z {
            target[permutation[2]] = flipped[2] ? grid.shape.z - 1 - k : k
            for j in 0..<grid.shape.y {
                target[permutation[1]] = flipped[1] ? grid.shape.y - 1 - j : j
                for i in 0..<grid.shape.x {
                    target[permutation[0]] = flipped[0] ? grid.shape.x - 1 - i : i
                    values[(target.z * sourceShape.y + target.y) * sourceShape.x + target.x] = grid.values[index]
                    index += 1
                }
            }
        }
        return Grid(shape: sourceShape, values: values, coordinates: sourceCoordinates)
    }
}
