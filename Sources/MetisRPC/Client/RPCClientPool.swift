public import Foundation
import Synchronization

/// Spreads calls over connections to several instances of one service (e.g.
/// inference workers). Instances that are backing off after a failure are
/// skipped while another one is available, and a unary call that could not be
/// sent because its instance is down is tried on the others.
public final class RPCClientPool: RPCCaller, Sendable {
    public enum Strategy: Sendable, Hashable {
        case roundRobin
        /// The connection with the fewest calls in flight (ties: the first).
        case leastInFlight
    }

    public let connections: [RPCConnection]
    public let strategy: Strategy
    private let next = Atomic<Int>(0)

    public init(connections: [RPCConnection], strategy: Strategy = .leastInFlight) {
        precondition(!connections.isEmpty, "a pool needs at least one connection")
        self.connections = connections
        self.strategy = strategy
    }

    /// The connection the next call goes to.
    public func pick() -> RPCConnection {
        let available = connections.filter(\.isAvailable)
        let candidates = available.isEmpty ? connections : available
        switch strategy {
        case .roundRobin:
            let turn = next.wrappingAdd(1, ordering: .relaxed).oldValue
            return candidates[Int(turn.magnitude % UInt(candidates.count))]
        case .leastInFlight:
            return candidates.min { $0.inFlight < $1.inFlight }!
        }
    }

    public func call(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        let first = pick()
        do {
            return try await first.call(method, payload: payload, options: options)
        } catch let error as RPCError where error.neverSent {
            var lastError = error
            for other in connections where other !== first && other.isAvailable {
                do {
                    return try await other.call(method, payload: payload, options: options)
                } catch let error as RPCError where error.neverSent {
                    lastError = error
                }
            }
            throw lastError
        }
    }

    public func stream(_ method: MethodDescriptor, payload: Data, options: CallOptions) -> AsyncThrowingStream<Data, any Error> {
        pick().stream(method, payload: payload, options: options)
    }

    public func close() async {
        for connection in connections { await connection.close() }
    }
}
