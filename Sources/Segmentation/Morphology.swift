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
    /// Along columns the count runs over each contiguous line; along rows and slices a window of counts, one per
    /// position of the plane below the axis, slides over the lines, so memory is read in order and the loops vectorise.
    private static func box(
        _ mask: [Bool], columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int), all: Bool, beyondEdgeSet: Bool = false
    ) -> [Bool] {
        var current = mask
        var next = [Bool](repeating: false, count: mask.count)
        let strides = [1, columns, columns * rows]
        let sizes = [columns, rows, slices]
        for (axis, radius) in [radii.x, radii.y, radii.z].enumerated() where radius > 0 {
            // The layout is [outer][size][stride]: `stride` lines side by side along the axis.
            let stride = strides[axis], size = sizes[axis], outer = mask.count / (stride * size)
            // How many set voxels position `k`'s window needs for the voxel to be set (more than any window holds: never).
            let need = (0..<size).map { k -> Int16 in
                let low = k - radius, high = k + radius
                guard all else { return 1 }
                if beyondEdgeSet { return Int16(min(size - 1, high) - max(0, low) + 1) }
                return low >= 0 && high < size ? Int16(2 * radius + 1) : Int16.max
            }
            current.withUnsafeBytes { sourceBytes in
                next.withUnsafeMutableBytes { targetBytes in
                    let source = sourceBytes.bindMemory(to: UInt8.self), target = targetBytes.bindMemory(to: UInt8.self)
                    if stride == 1 {
                        for line in 0..<outer {
                            let base = line * size
                            var count: Int16 = 0
                            for k in 0...min(radius, size - 1) { count &+= Int16(source[base + k]) }
                            for k in 0..<size {
                                target[base + k] = count >= need[k] ? 1 : 0
                                if k + radius + 1 < size { count &+= Int16(source[base + k + radius + 1]) }
                                if k - radius >= 0 { count &-= Int16(source[base + k - radius]) }
                            }
                        }
                        return
                    }
                    let window = UnsafeMutableBufferPointer<Int16>.allocate(capacity: stride)
                    defer { window.deallocate() }
                    let counts = UnsafeMutableRawPointer(window.baseAddress!)
                    let sourceBase = UnsafeRawPointer(source.baseAddress!), targetBase = UnsafeMutableRawPointer(target.baseAddress!)
                    let vectorEnd = stride / 16 * 16
                    /// Adds (or takes away) line `row` of the source to the window, 16 positions at a time.
                    @inline(__always) func add(_ row: Int, _ sign: Int16) {
                        var j = 0
                        while j < vectorEnd {
                            let values = SIMD16<Int16>(
                                truncatingIfNeeded: sourceBase.loadUnaligned(fromByteOffset: row + j, as: SIMD16<UInt8>.self))
                            let window = counts.loadUnaligned(fromByteOffset: 2 * j, as: SIMD16<Int16>.self)
                            counts.storeBytes(of: window &+ values &* sign, toByteOffset: 2 * j, as: SIMD16<Int16>.self)
                            j += 16
                        }
                        while j < stride {
                            window[j] &+= Int16(source[row + j]) &* sign
                            j += 1
                        }
                    }
                    /// Writes line `row` of the target: set where the window holds at least `threshold`.
                    @inline(__always) func emit(_ row: Int, _ threshold: Int16) {
                        var j = 0
                        let limit = SIMD16<Int16>(repeating: threshold)
                        while j < vectorEnd {
                            let window = counts.loadUnaligned(fromByteOffset: 2 * j, as: SIMD16<Int16>.self)
                            let set = SIMD16<Int16>(repeating: 0).replacing(with: 1, where: window .>= limit)
                            targetBase.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: set), toByteOffset: row + j, as: SIMD16<UInt8>.self)
                            j += 16
                        }
                        while j < stride {
                            target[row + j] = window[j] >= threshold ? 1 : 0
                            j += 1
                        }
                    }
                    for block in 0..<outer {
                        let base = block * size * stride
                        window.initialize(repeating: 0)
                        for k in 0...min(radius, size - 1) { add(base + k * stride, 1) }
                        for k in 0..<size {
                            emit(base + k * stride, need[k])
                            if k + radius + 1 < size { add(base + (k + radius + 1) * stride, 1) }
                            if k - radius >= 0 { add(base + (k - radius) * stride, -1) }
                        }
                    }
                }
            }
            swap(&current, &next)
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
        mask.withUnsafeBufferPointer { mask in
            outside.withUnsafeMutableBufferPointer { outside in
                // Each voxel is pushed at most once, as its packed coordinates.
                let stack = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, mask.count))
                defer { stack.deallocate() }
                var top = 0
                @inline(__always) func visit(_ x: Int, _ y: Int, _ z: Int) {
                    let index = (z * rows + y) * columns + x
                    if !mask[index] && !outside[index] {
                        outside[index] = true
                        stack[top] = UInt64(x) | UInt64(y) << 20 | UInt64(z) << 40
                        top += 1
                    }
                }
                for z in 0..<slices {
                    for y in 0..<rows {
                        let border = z == 0 || z == slices - 1 || y == 0 || y == rows - 1
                        for x in 0..<columns where border || x == 0 || x == columns - 1 { visit(x, y, z) }
                    }
                }
                while top > 0 {
                    top -= 1
                    let packed = stack[top]
                    let x = Int(packed & 0xFFFFF), y = Int((packed >> 20) & 0xFFFFF), z = Int(packed >> 40)
                    if x > 0 { visit(x - 1, y, z) }
                    if x < columns - 1 { visit(x + 1, y, z) }
                    if y > 0 { visit(x, y - 1, z) }
                    if y < rows - 1 { visit(x, y + 1, z) }
                    if z > 0 { visit(x, y, z - 1) }
                    if z < slices - 1 { visit(x, y, z + 1) }
                }
            }
        }
        return outside.map { !$0 }
    }

    /// Fills, on every slice, the background regions not connected to the slice's border.
    static func fillHolesPerSlice(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> [Bool] {
        var filled = mask
        let plane = columns * rows
        mask.withUnsafeBufferPointer { mask in
            filled.withUnsafeMutableBufferPointer { filled in
                let outside = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, plane))
                let stack = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, plane))
                defer {
                    outside.deallocate()
                    stack.deallocate()
                }
                for slice in 0..<slices {
                    let base = slice * plane
                    outside.initialize(repeating: false)
                    var top = 0
                    @inline(__always) func visit(_ pixel: Int) {
                        if !outside[pixel] && !mask[base + pixel] {
                            outside[pixel] = true
                            stack[top] = Int32(truncatingIfNeeded: pixel)
                            top += 1
                        }
                    }
                    for x in 0..<columns {
                        visit(x)
                        visit((rows - 1) * columns + x)
                    }
                    for y in 0..<rows {
                        visit(y * columns)
                        visit(y * columns + columns - 1)
                    }
                    while top > 0 {
                        top -= 1
                        let pixel = Int(stack[top])
                        let x = pixel % columns, y = pixel / columns
                        if x > 0 { visit(pixel - 1) }
                        if x < columns - 1 { visit(pixel + 1) }
                        if y > 0 { visit(pixel - columns) }
                        if y < rows - 1 { visit(pixel + columns) }
                    }
                    for pixel in 0..<plane where !outside[pixel] { filled[base + pixel] = true }
                }
            }
        }
        return filled
    }

    /// Whether a labelled voxel has an in-slice 4-neighbour with another label.
    static func isSliceBorder(_ index: Int, labels: [Int32], columns: Int, rows: Int) -> Bool {
        let x = index % columns, y = (index / columns) % rows, label = labels[index]
        if x == 0 || y == 0 || x == columns - 1 || y == rows - 1 { return true }
        return labels[index - 1] != label || labels[index + 1] != label || labels[index - columns] != label
            || labels[index + columns] != label
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
