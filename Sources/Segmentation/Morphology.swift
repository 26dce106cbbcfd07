/// Binary morphology on volumes, in voxel units.
enum Morphology {
    /// Box erosion with per-axis radii: a voxel stays when every voxel within
    /// the radii along each axis is set; outside the volume counts as unset,
    /// or as set with `beyondEdgeSet` (an anatomy that goes on past a field of view that cuts it).
    static func erode(
        _ mask: [Bool], columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int), beyondEdgeSet: Bool = false
    ) -> [Bool] {
        box(mask, columns: columns, rows: rows, slices: slices, radii: radii, all: true, beyondEdgeSet: beyondEdgeSet)
    }

    /// Box dilation with per-axis radii: a voxel is set when any voxel within the radii along each axis is.
    static func dilate(_ mask: [Bool], columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int)) -> [Bool] {
        box(mask, columns: columns, rows: rows, slices: slices, radii: radii, all: false)
    }

    /// Separable box filter, one axis after another, a running count along each line (independent of the radius).
    private static func box(
        _ mask: [Bool], columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int), all: Bool, beyondEdgeSet: Bool = false
    ) -> [Bool] {
        var current = mask
        let strides = [1, columns, columns * rows]
        let sizes = [columns, rows, slices]
        for (axis, radius) in [radii.x, radii.y, radii.z].enumerated() where radius > 0 {
            let stride = strides[axis], size = sizes[axis]
            var next = current
            var prefix = [Int32](repeating: 0, count: size + 1)
            for start in current.indices where (start / stride) % size == 0 {
                for k in 0..<size { prefix[k + 1] = prefix[k] + (current[start + k * stride] ? 1 : 0) }
                for k in 0..<size {
                    let low = k - radius, high = k + radius
                    let count = prefix[min(size, high + 1)] - prefix[max(0, low)]
                    let inside = min(size - 1, high) - max(0, low) + 1
                    next[start + k * stride] =
                        all ? (beyondEdgeSet ? Int(count) == inside : low >= 0 && high < size && Int(count) == 2 * radius + 1) : count > 0
                }
            }
            current = next
        }
        return current
    }

    /// Voxel radii for a distance in mm along each axis of a volume (rounded down; at least `minimum`).
    static func radii(_ millimetres: Double, spacing: (x: Double, y: Double, z: Double), minimum: Int = 0) -> (x: Int, y: Int, z: Int) {
        func r(_ s: Double) -> Int { max(minimum, Int((millimetres / s).rounded(.down))) }
        return (r(spacing.x), r(spacing.y), r(spacing.z))
    }

    /// Fills the background regions not connected (6-neighbours) to the volume's border.
    static func fillHoles(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> [Bool] {
        var outside = [Bool](repeating: false, count: mask.count)
        var stack = [Int]()
        let plane = columns * rows
        for index in mask.indices where !mask[index] {
            let x = index % columns, y = (index / columns) % rows, z = index / plane
            if x == 0 || y == 0 || z == 0 || x == columns - 1 || y == rows - 1 || z == slices - 1 {
                outside[index] = true
                stack.append(index)
            }
        }
        while let index = stack.popLast() {
            let x = index % columns, y = (index / columns) % rows, z = index / plane
            for (ok, neighbour) in [(x > 0, index - 1), (x < columns - 1, index + 1), (y > 0, index - columns), (y < rows - 1, index + columns),
                                    (z > 0, index - plane), (z < slices - 1, index + plane)] where ok && !mask[neighbour] && !outside[neighbour] {
                outside[neighbour] = true
                stack.append(neighbour)
            }
        }
        return outside.map { !$0 }
    }

    /// Fills, on every slice, the background regions not connected to the slice's border.
    static func fillHolesPerSlice(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> [Bool] {
        var filled = mask
        let plane = columns * rows
        for slice in 0..<slices {
            let base = slice * plane
            var outside = [Bool](repeating: false, count: plane)
            var stack = [Int]()
            for x in 0..<columns {
                stack.append(x)
                stack.append((rows - 1) * columns + x)
            }
            for y in 0..<rows {
                stack.append(y * columns)
                stack.append(y * columns + columns - 1)
            }
            while let pixel = stack.popLast() {
                guard !outside[pixel], !mask[base + pixel] else { continue }
                outside[pixel] = true
                let x = pixel % columns, y = pixel / columns
                if x > 0 { stack.append(pixel - 1) }
                if x < columns - 1 { stack.append(pixel + 1) }
                if y > 0 { stack.append(pixel - columns) }
                if y < rows - 1 { stack.append(pixel + columns) }
            }
            for pixel in 0..<plane where !outside[pixel] { filled[base + pixel] = true }
        }
        return filled
    }

    /// Whether a labelled voxel has an in-slice 4-neighbour with another label.
    static func isSliceBorder(_ index: Int, labels: [Int32], columns: Int, rows: Int) -> Bool {
        let x = index % columns, y = (index / columns) % rows, label = labels[index]
        if x == 0 || y == 0 || x == columns - 1 || y == rows - 1 { return true }
        return labels[index - 1] != label || labels[index + 1] != label || labels[index - columns] != label || labels[index + columns] != label
    }
}

/// In-plane Sobel gradient magnitude, slice by slice.
enum Sobel {
    static func magnitude(_ values: [Float], columns: Int, rows: Int, slices: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        let plane = columns * rows
        for slice in 0..<slices {
            let base = slice * plane
            for y in 1..<max(1, rows - 1) {
                for x in 1..<max(1, columns - 1) {
                    let i = base + y * columns + x
                    func v(_ dx: Int, _ dy: Int) -> Float { values[i + dy * columns + dx] }
                    let gx = (v(1, -1) + 2 * v(1, 0) + v(1, 1)) - (v(-1, -1) + 2 * v(-1, 0) + v(-1, 1))
                    let gy = (v(-1, 1) + 2 * v(0, 1) + v(1, 1)) - (v(-1, -1) + 2 * v(0, -1) + v(1, -1))
                    result[i] = (gx * gx + gy * gy).squareRoot() / 8
                }
            }
        }
        return result
    }
}
