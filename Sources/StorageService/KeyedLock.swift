/// Serialises work per key (a blob's sha256): two stores of the same bytes,
/// or a store and the removal of its blob, run one after the other; other
/// keys in parallel.
actor KeyedLock {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withLocks([key], body)
    }

    /// Holds every key of `keys` while `body` runs; keys are taken in sorted
    /// order, so two callers holding several cannot wait on each other.
    func withLocks<T: Sendable>(_ keys: some Sequence<String>, _ body: @Sendable () async throws -> T) async throws -> T {
        let ordered = Set(keys).sorted()
        for key in ordered {
            while held.contains(key) {
                await withCheckedContinuation { waiters[key, default: []].append($0) }
            }
            held.insert(key)
        }
        defer {
            for key in ordered {
                held.remove(key)
                if var queue = waiters[key], !queue.isEmpty {
                    queue.removeFirst().resume()
                    waiters[key] = queue.isEmpty ? nil : queue
                }
            }
        }
        return try await body()
    }
}
