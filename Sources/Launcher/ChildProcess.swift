import Foundation
import Synchronization

/// One running service process started by the supervisor.
final class ChildProcess: Sendable {
    let name: String
    let pid: Int32
    private let exit = ExitLatch()

    /// Starts `executable` with `arguments`; standard output and error are inherited.
    init(name: String, executable: URL, arguments: [String], environment: [String: String]) throws {
        self.name = name
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let exit = self.exit
        // Set before `run()`, so an early exit is never missed.
        process.terminationHandler = { process in
            exit.record(process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus)
        }
        try process.run()
        pid = process.processIdentifier
    }

    /// Whether the process has exited.
    var hasExited: Bool { exit.status != nil }

    /// The exit status (128 + signal number when a signal ended it).
    func waitForExit() async -> Int32 {
        await exit.wait()
    }

    func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL if still running after `grace`.
    func stop(grace: Duration) async {
        signal(SIGTERM)
        let exited = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await self.waitForExit(); return true
            }
            group.addTask {
                try? await Task.sleep(for: grace); return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !exited {
            signal(SIGKILL)
            _ = await waitForExit()
        }
    }
}

/// Holds a process's exit status once known, and wakes whoever waits for it.
private final class ExitLatch: Sendable {
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    var status: Int32? { state.withLock { $0.status } }

    func record(_ status: Int32) {
        let waiters = state.withLock { state in
            state.status = status
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        waiters.forEach { $0.resume(returning: status) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}
