import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Checkpoints a WAL database off the committing thread. Left to itself,
/// SQLite copies the WAL back into the database inside whichever commit takes
/// the WAL past 1,000 pages, and that commit (a store, a delete) then takes
/// milliseconds longer. Here the writer's commits only report the WAL's size
/// (a WAL hook, which replaces SQLite's automatic checkpoint), and past
/// `pageThreshold` pages a PASSIVE checkpoint runs on a connection of its own,
/// on a utility queue. A passive checkpoint takes no lock a writer or a reader
/// waits on; what it cannot copy yet (pages a reader still needs) the next one
/// copies.
final class WALCheckpointer: Sendable {
    static let pageThreshold: Int32 = 1000

    private let path: String
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let scheduled = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "metis.sqlite.checkpoint", qos: .utility)

    init(path: String) {
        self.path = path
    }

    /// Installs the WAL hook on a connection; the connection must not outlive `self`.
    func install(on db: Database) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, _, _, pages in
                if let context, pages >= WALCheckpointer.pageThreshold {
                    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().schedule()
                }
                return SQLITE_OK
            }, context)
    }

    private func schedule() {
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            defer { scheduled.store(false, ordering: .releasing) }
            checkpoint()
        }
    }

    /// One passive checkpoint; a failure (a busy database, say) waits for the next commit's hook.
    private func checkpoint() {
        do {
            let queue = try connection.withLock { connection in
                if let connection { return connection }
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)
                let opened = try DatabaseQueue(path: path, configuration: configuration)
                connection = opened
                return opened
            }
            try queue.inDatabase { _ = try $0.checkpoint(.passive) }
        } catch {
            // Nothing is lost: the WAL keeps the pages until a checkpoint succeeds.
        }
    }
}
