import Synchronization

/// Counts calls in flight across a server's connections so that a graceful
/// shutdown can wait for them to finish, and refuses new calls once it drains.
final class CallTracker: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var inFlight: Int { state.withLock { $0.inFlight } }
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Counts a new call; false once draining, when the call must be refused.
    func begin() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// From now on `begin()` refuses new calls.
    func startDraining() {
        state.withLock { $0.draining = true }
    }

    func end() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [] }
            defer { state.idleWaiters.removeAll() }
            return state.idleWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once no call is in flight.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if state.inFlight == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
