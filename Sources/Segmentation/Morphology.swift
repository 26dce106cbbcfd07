/// Binary morphology on volumes, in voxel units.
enum Morphology {
    /// Box erosion with per-axis radii (separable: x, then y, then z).
    static func erode(_ mask: [Bool], columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int)) -> [Bool] {
        var current = mask
        let strides = [1, columns, columns * rows]
        let sizes = [columns, rows, slices]
        for (axis, radius) in [radii.x, radii.y, radii.z].enumerated() where radius > 0 {
            var next = current
            for index in current.indices where current[index] {
                let coordinate = (index / strides[axis]) % sizes[axis]
                for step in 1...radius {
                    if coordinate - step < 0 || !current[index - step * strides[axis]]
                        || coordinate + step >= sizes[axis] || !current[index + step * strides[axis]]
                    {
                        next[index] = false
                        break
                    }
                }
            }
            current = next
        }
        return current
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
