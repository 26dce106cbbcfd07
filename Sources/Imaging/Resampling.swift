/// Resampling to a target spacing (MONAI's `Spacing`): trilinear for images,
/// nearest neighbour for labels. New samples start at each axis's first
/// sample and, as in MONAI, there are round(extent / spacing) + 1 of them, so
/// the last may lie up to half a step beyond the source (it takes the border
/// value). Uneven source spacing is honoured through the axis coordinates.
public enum Resampling {
    public enum Mode: Sendable {
        case linear, nearest
    }

    /// `grid` on a regular grid of `spacing` mm per axis.
    public static func resample(_ grid: Grid, spacing: SIMD3<Double>, mode: Mode) throws(ImagingError) -> Grid {
        guard (0..<3).allSatisfy({ spacing[$0] > 0 }) else { throw ImagingError(.invalidArgument, "spacing must be positive") }
        let coordinates = (0..<3).map { axis -> [Double] in
            let source = grid.coordinates[axis]
            let extent = (source.last ?? 0) - (source.first ?? 0)
            let count = max(1, Int((extent / spacing[axis] + 1).rounded(.toNearestOrEven)))
            return (0..<count).map { (source.first ?? 0) + Double($0) * spacing[axis] }
        }
        return onto(grid, coordinates: coordinates, mode: mode)
    }

    /// `grid` sampled at the given axis coordinates: the inverse of `resample` is `onto` the original coordinates.
    public static func onto(_ grid: Grid, coordinates: [[Double]], mode: Mode) -> Grid {
        let lookups = (0..<3).map { axis in coordinates[axis].map { locate($0, in: grid.coordinates[axis]) } }
        let shape = SIMD3(coordinates[0].count, coordinates[1].count, coordinates[2].count)
        var values = [Float](repeating: 0, count: shape.x * shape.y * shape.z)
        var out = 0
        for k in 0..<shape.z {
            let (k0, wk) = lookups[2][k]
            for j in 0..<shape.y {
                let (j0, wj) = lookups[1][j]
                for i in 0..<shape.x {
                    let (i0, wi) = lookups[0][i]
                    switch mode {
                    case .nearest:
                        values[out] =
                            grid[
                                nearest(i0, wi, count: grid.shape.x), nearest(j0, wj, count: grid.shape.y),
                                nearest(k0, wk, count: grid.shape.z)]
                    case .linear:
                        let i1 = min(i0 + 1, grid.shape.x - 1), j1 = min(j0 + 1, grid.shape.y - 1), k1 = min(k0 + 1, grid.shape.z - 1)
                        func lerp(_ a: Float, _ b: Float, _ w: Double) -> Double { Double(a) * (1 - w) + Double(b) * w }
                        let c00 = lerp(grid[i0, j0, k0], grid[i1, j0, k0], wi), c10 = lerp(grid[i0, j1, k0], grid[i1, j1, k0], wi)
                        let c01 = lerp(grid[i0, j0, k1], grid[i1, j0, k1], wi), c11 = lerp(grid[i0, j1, k1], grid[i1, j1, k1], wi)
                        let c0 = c00 * (1 - wj) + c10 * wj, c1 = c01 * (1 - wj) + c11 * wj
                        values[out] = Float(c0 * (1 - wk) + c1 * wk)
                    }
                    out += 1
                }
            }
        }
        return Grid(shape: shape, values: values, coordinates: coordinates)
    }

    /// The nearer of samples `low` and `low + 1`; a tie (within rounding of
    /// the positions) goes to the even index, as PyTorch's grid sampling
    /// (round half to even) does in MONAI — ties are common, e.g. 2.7 mm slices on a 1 mm grid.
    @inline(__always)
    private static func nearest(_ low: Int, _ weight: Double, count: Int) -> Int {
        let next = min(low + 1, count - 1)
        if abs(weight - 0.5) < 1e-6 { return low % 2 == 0 ? low : next }
        return weight > 0.5 ? next : low
    }

    /// The source sample at or below `position` and the weight of the next one (clamped to the axis).
    private static func locate(_ position: Double, in axis: [Double]) -> (Int, Double) {
        guard axis.count > 1 else { return (0, 0) }
        if position <= axis[0] { return (0, 0) }
        if position >= axis[axis.count - 1] { return (axis.count - 1, 0) }
        var low = 0, high = axis.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if axis[middle] <= position { low = middle } else { high = middle }
        }
        return (low, (position - axis[low]) / (axis[high] - axis[low]))
    }
}
