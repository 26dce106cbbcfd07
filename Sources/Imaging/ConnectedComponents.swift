/// 3D connected components of a binary mask with 26-connectivity: voxels
/// that share a face, an edge or a corner belong to the same component.
public enum ConnectedComponents {
    /// Labels 1...n per voxel (0 outside the mask), components numbered in
    /// the order their first voxel appears (slice, row, column); and n.
    public static func label(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> (labels: [Int32], count: Int) {
        precondition(mask.count == columns * rows * slices)
        var labels = [Int32](repeating: 0, count: mask.count)
        var count: Int32 = 0
        mask.withUnsafeBufferPointer { mask in
            labels.withUnsafeMutableBufferPointer { labels in
                // Each voxel is pushed at most once, as its packed coordinates (no division when it is popped).
                let stack = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, mask.count))
                defer { stack.deallocate() }
                var start = 0
                for slice in 0..<slices {
                    for row in 0..<rows {
                        for column in 0..<columns {
                            defer { start += 1 }
                            guard mask[start] && labels[start] == 0 else { continue }
                            count += 1
                            labels[start] = count
                            stack[0] = UInt64(column) | UInt64(row) << 20 | UInt64(slice) << 40
                            var top = 1
                            while top > 0 {
                                top -= 1
                                let packed = stack[top]
                                let x = Int(packed & 0xFFFFF), y = Int((packed >> 20) & 0xFFFFF), z = Int(packed >> 40)
                                for nz in max(0, z - 1)...min(slices - 1, z + 1) {
                                    for ny in max(0, y - 1)...min(rows - 1, y + 1) {
                                        let line = (nz * rows + ny) * columns
                                        for nx in max(0, x - 1)...min(columns - 1, x + 1) where mask[line + nx] && labels[line + nx] == 0 {
                                            labels[line + nx] = count
                                            stack[top] = UInt64(nx) | UInt64(ny) << 20 | UInt64(nz) << 40
                                            top += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (labels, Int(count))
    }
}

/// The voxel-index box holding one component, inclusive.
public struct VoxelBounds: Sendable, Equatable {
    public var minimum: SIMD3<Int>
    public var maximum: SIMD3<Int>

    /// The bounds of each label 1...count, in one pass (index 0 unused).
    public static func of(_ labels: [Int32], count: Int, columns: Int, rows: Int) -> [VoxelBounds?] {
        var bounds = [VoxelBounds?](repeating: nil, count: count + 1)
        let plane = columns * rows
        for index in labels.indices where labels[index] > 0 {
            let point = SIMD3(index % columns, (index / columns) % rows, index / plane)
            let label = Int(labels[index])
            if var box = bounds[label] {
                box.minimum = pointwiseMin(box.minimum, point)
                box.maximum = pointwiseMax(box.maximum, point)
                bounds[label] = box
            } else {
                bounds[label] = VoxelBounds(minimum: point, maximum: point)
            }
        }
        return bounds
    }
}
