import NIOPosix

/// Threads for the blocking disk work of a call — fsyncs, SQLite point
/// lookups and commits, blob reads — done in one hop, so that a store
/// waiting on the disk holds none of Swift's cooperative threads and the
/// call does not bounce between GRDB's queues and the task's executor.
final class DiskThreads: Sendable {
    /// The process's disk threads: four, so that four stores (the gateway's
    /// upload concurrency) can wait on their fsyncs at once. Never released.
    static let shared = DiskThreads(count: 4)

    private let pool: NIOThreadPool

    private init(count: Int) {
        pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
