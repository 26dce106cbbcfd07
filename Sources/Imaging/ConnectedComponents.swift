/// 3D connected components of a binary mask with 26-connectivity: voxels
/// that share a face, an edge or a corner belong to the same component.
public enum ConnectedComponents {
    /// Labels 1...n per voxel (0 outside the mask), components numbered in
    /// the order their first voxel appears (slice, row, column); and n.
    public static func label(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> (labels: [Int32], count: Int) {
        precondition(mask.count == columns * rows * slices)
        var labels = [Int32](repeating: 0, count: mask.count)
        var count: Int32 = 0
        let plane = columns * rows
        mask.withUnsafeBufferPointer { mask in
            labels.withUnsafeMutableBufferPointer { labels in
                // Each voxel is pushed at most once.
                let stack = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, mask.count))
                defer { stack.deallocate() }
                for start in 0..<mask.count where mask[start] && labels[start] == 0 {
                    count += 1
                    labels[start] = count
                    stack[0] = Int32(truncatingIfNeeded: start)
                    var top = 1
                    while top > 0 {
                        top -= 1
                        let index = Int(stack[top])
                        let column = index % columns, row = (index / columns) % rows, slice = index / plane
                        let z0 = max(0, slice - 1), z1 = min(slices - 1, slice + 1)
                        let y0 = max(0, row - 1), y1 = min(rows - 1, row + 1)
                        let x0 = max(0, column - 1), x1 = min(columns - 1, column + 1)
                        for z in z0...z1 {
                            for y in y0...y1 {
                                let line = (z * rows + y) * columns
                                for x in x0...x1 {
                                    let neighbour = line + x
                                    if mask[neighbour] && labels[neighbour] == 0 {
                                        labels[neighbour] = count
                                        stack[top] = Int32(truncatingIfNeeded: neighbour)
                                        top += 1
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
