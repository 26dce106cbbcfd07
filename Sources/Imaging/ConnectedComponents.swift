/// 3D connected components of a binary mask with 26-connectivity: voxels
/// that share a face, an edge or a corner belong to the same component.
public enum ConnectedComponents {
    /// Labels 1...n per voxel (0 outside the mask), components numbered in
    /// the order their first voxel appears (slice, row, column); and n.
    public static func label(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> (labels: [Int32], count: Int) {
        precondition(mask.count == columns * rows * slices)
        var labels = [Int32](repeating: 0, count: mask.count)
        var count: Int32 = 0
        var stack = [Int]()
        for start in mask.indices where mask[start] && labels[start] == 0 {
            count += 1
            labels[start] = count
            stack.append(start)
            while let index = stack.popLast() {
                let column = index % columns, row = (index / columns) % rows, slice = index / (columns * rows)
                for dz in -1...1 {
                    let z = slice + dz
                    guard z >= 0, z < slices else { continue }
                    for dy in -1...1 {
                        let y = row + dy
                        guard y >= 0, y < rows else { continue }
                        for dx in -1...1 {
                            let x = column + dx
                            guard x >= 0, x < columns else { continue }
                            let neighbour = (z * rows + y) * columns + x
                            if mask[neighbour] && labels[neighbour] == 0 {
                                labels[neighbour] = count
                                stack.append(neighbour)
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
