/// A model that cannot be loaded or run: a bad card, weights that do not fit, an image it cannot take.
public struct ModelInferenceError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
