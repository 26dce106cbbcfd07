import Foundation
import NIOPosix

/// Threads for the blocking disk work of a call — fsyncs, SQLite point
/// lookups and commits, blob reads — done in one hop, so that a store
/// waiting on the disk holds none of Swift's cooperative threads and the
/// call does not bounce between GRDB's queues and the task's executor.
final class DiskThreads: Sendable {
    /// The process's disk threads: four, so that four stores (the gateway's
    /// upload concurrency) can wait on their fsyncs at once. Never released.
    static let shared = DiskThreads(count: 4, niceness: 0)

    /// One thread at low CPU priority (nice 10) for work nobody waits on —
    /// unlinking the files of a deleted study — so that it yields the CPU to
    /// the calls being answered.
    static let background = DiskThreads(count: 1, niceness: 10)

    private let pool: NIOThreadPool
    private let niceness: Int32

    private init(count: Int, niceness: Int32) {
        pool = NIOThreadPool(numberOfThreads: count)
        self.niceness = niceness
        pool.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive { [niceness] in
            // On Linux, `who` 0 is the calling thread, not the whole process; the pool's threads are its alone.
            if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
            return try body()
        }
    }
}
