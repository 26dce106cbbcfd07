/// Exponential back-off between reconnection attempts: `initial`, then ×`multiplier`
/// up to `maximum`; reset after a successful connection.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The delay that follows `previous` (or the first one).
    public func delay(after previous: Duration?) -> Duration {
        guard let previous else { return initial }
        return min(previous * multiplier, maximum)
    }
}
