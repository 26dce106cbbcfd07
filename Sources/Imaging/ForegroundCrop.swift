/// Cropping to the foreground (MONAI's `CropForeground`): the box of values
/// above a threshold, widened by a margin, and the exact inverse (padding
/// back into the original grid).
public struct ForegroundCrop: Sendable, Equatable {
    /// First kept sample per axis, and the kept shape.
    public let start: SIMD3<Int>
    public let shape: SIMD3<Int>
    let sourceShape: SIMD3<Int>

    /// The box of samples above `threshold`, `margin` samples wider on every side (clamped).
    /// An empty foreground keeps the whole grid.
    public static func box(of grid: Grid, threshold: Float = 0, margin: Int = 0) -> ForegroundCrop {
        box(of: [grid], threshold: threshold, margin: margin)
    }

    /// The box of samples above `threshold` in any of the grids (channels on one grid), as MONAI's on a multi-channel image.
    public static func box(of grids: [Grid], threshold: Float = 0, margin: Int = 0) -> ForegroundCrop {
        let shape = grids[0].shape
        var low = shape, high = SIMD3<Int>(-1, -1, -1)
        for grid in grids {
            precondition(grid.shape == shape, "channels on different grids")
            for k in 0..<shape.z {
                for j in 0..<shape.y {
                    for i in 0..<shape.x where grid[i, j, k] > threshold {
                        let p = SIMD3(i, j, k)
                        low = pointwiseMin(low, p)
                        high = pointwiseMax(high, p)
                    }
                }
            }
        }
        guard high.x >= 0 else { return ForegroundCrop(start: .zero, shape: shape, sourceShape: shape) }
        let start = pointwiseMax(low &- margin, .zero)
        let end = pointwiseMin(high &+ margin, shape &- 1)
        return ForegroundCrop(start: start, shape: end &- start &+ 1, sourceShape: shape)
    }

    public func apply(_ grid: Grid) -> Grid {
        var values = [Float]()
        values.reserveCapacity(shape.x * shape.y * shape.z)
        for k in start.z..<start.z + shape.z {
            for j in start.y..<start.y + shape.y {
                let base = grid.index(start.x, j, k)
                values.append(contentsOf: grid.values[base..<base + shape.x])
            }
        }
        let coordinates = (0..<3).map { Array(grid.coordinates[$0][start[$0]..<start[$0] + shape[$0]]) }
        return Grid(shape: shape, values: values, coordinates: coordinates)
    }

    /// `cropped` put back at its place in the source grid, `fill` elsewhere.
    public func invert(_ cropped: Grid, sourceCoordinates: [[Double]], fill: Float = 0) -> Grid {
        var values = [Float](repeating: fill, count: sourceShape.x * sourceShape.y * sourceShape.z)
        for k in 0..<shape.z {
            for j in 0..<shape.y {
                let target = ((start.z + k) * sourceShape.y + start.y + j) * sourceShape.x + start.x
                let source = (k * shape.y + j) * shape.x
                values.replaceSubrange(target..<target + shape.x, with: cropped.values[source..<source + shape.x])
            }
        }
        return Grid(shape: sourceShape, values: values, coordinates: sourceCoordinates)
    }
}
