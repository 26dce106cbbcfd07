/// Serialises work per key (a SOP Instance UID): two stores of the same
/// instance run one after the other, different instances in parallel.
actor KeyedLock {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        while held.contains(key) {
            await withCheckedContinuation { waiters[key, default: []].append($0) }
        }
        held.insert(key)
        defer {
            held.remove(key)
            if var queue = waiters[key], !queue.isEmpty {
                queue.removeFirst().resume()
                waiters[key] = queue.isEmpty ? nil : queue
            }
        }
        return try await body()
    }
}
