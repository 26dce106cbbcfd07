/// One volume's voxels on another's grid, through patient coordinates: how
/// the series of a multi-sequence model (T1c, FLAIR, …) are brought onto the
/// first channel's grid before they are stacked (MONAI's `ResampleToMatch`).
/// Trilinear; a reference voxel more than half a voxel outside the source's
/// field of view was not imaged and gets 0 (which `NormalizeIntensity` with
/// `nonzero` then leaves out).
extension Volume {
    /// `self` sampled at every voxel centre of `reference`, in `reference`'s voxel order.
    public func resampled(onto reference: VolumeGeometry) -> [Float] {
        let g = geometry
        let locations = g.sliceLocations
        let normal = g.normal
        var values = [Float](repeating: 0, count: reference.columns * reference.rows * reference.slices)
        var out = 0
        for slice in 0..<reference.slices {
            for row in 0..<reference.rows {
                for column in 0..<reference.columns {
                    defer { out += 1 }
                    let p = reference.position(column: Double(column), row: Double(row), slice: slice)
                    guard let (k0, k1, wk) = Self.locate(dot(p, normal), in: locations) else { continue }
                    let offset = p - g.slicePositions[k0]
                    let x = dot(offset, g.rowDirection) / g.columnSpacing, y = dot(offset, g.columnDirection) / g.rowSpacing
                    guard x > -0.5, y > -0.5, x < Double(g.columns) - 0.5, y < Double(g.rows) - 0.5 else { continue }
                    let cx = min(max(x, 0), Double(g.columns - 1)), cy = min(max(y, 0), Double(g.rows - 1))
                    let i0 = Int(cx), j0 = Int(cy)
                    let i1 = min(i0 + 1, g.columns - 1), j1 = min(j0 + 1, g.rows - 1)
                    let wi = cx - Double(i0), wj = cy - Double(j0)
                    func plane(_ k: Int) -> Double {
                        let a = Double(self[i0, j0, k]) * (1 - wi) + Double(self[i1, j0, k]) * wi
                        let b = Double(self[i0, j1, k]) * (1 - wi) + Double(self[i1, j1, k]) * wi
                        return a * (1 - wj) + b * wj
                    }
                    values[out] = Float(plane(k0) * (1 - wk) + plane(k1) * wk)
                }
            }
        }
        return values
    }

    /// The slices around a location along the normal and the weight of the upper one; nil beyond half a slice gap outside.
    private static func locate(_ location: Double, in locations: [Double]) -> (Int, Int, Double)? {
        guard let first = locations.first, let last = locations.last else { return nil }
        guard locations.count > 1 else { return abs(location - first) <= 0.5 ? (0, 0, 0) : nil }
        if location <= first { return first - location <= (locations[1] - first) / 2 ? (0, 0, 0) : nil }
        let n = locations.count
        if location >= last { return location - last <= (last - locations[n - 2]) / 2 ? (n - 1, n - 1, 0) : nil }
        var low = 0, high = n - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if locations[middle] <= location { low = middle } else { high = middle }
        }
        return (low, high, (location - locations[low]) / (locations[high] - locations[low]))
    }
}
