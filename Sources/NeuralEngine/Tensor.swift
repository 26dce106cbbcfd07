/// A float32 tensor: a shape (outermost dimension first, the last one
/// contiguous, as PyTorch's default layout) and its values.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { values.count }

    /// A tensor whose every value `initialize` writes before anything reads
    /// it: no zero-filling pass over a buffer about to be overwritten.
    init(shape: [Int], initializingWith initialize: (UnsafeMutablePointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { initialize(base) }
            initialized = count
        }
    }

    /// The largest absolute difference from another tensor of the same shape.
    public func maximumDifference(from other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        return zip(values, other.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

/// Why a layer cannot run: shapes that do not fit, say which.
public struct NeuralEngineError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
