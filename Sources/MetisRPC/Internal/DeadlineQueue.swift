import NIOCore

/// The deadlines of the calls in flight on one connection, so that one timer
/// (for the earliest) serves them all instead of a timer per call.
///
/// Calls that finish early are not removed (their ids simply stop being in
/// flight); `compact(keeping:)` drops such entries when they pile up.
struct DeadlineQueue {
    private struct Entry {
        var deadline: NIODeadline
        var id: UInt64
    }

    /// A binary min-heap on `deadline`.
    private var heap: [Entry] = []

    var count: Int { heap.count }
    var earliest: NIODeadline? { heap.first?.deadline }

    /// Adds a deadline; returns true when it is now the earliest.
    @discardableResult
    mutating func insert(id: UInt64, deadline: NIODeadline) -> Bool {
        heap.append(Entry(deadline: deadline, id: id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return child == 0
    }

    /// Removes and returns the ids whose deadline is at or before `now`, earliest first.
    mutating func popExpired(now: NIODeadline) -> [UInt64] {
        var expired = [UInt64]()
        while let first = heap.first, first.deadline <= now {
            expired.append(first.id)
            removeFirst()
        }
        return expired
    }

    /// Keeps only the entries whose id `isLive` says is still in flight.
    mutating func compact(keeping isLive: (UInt64) -> Bool) {
        let live = heap.filter { isLive($0.id) }
        heap = []
        for entry in live { insert(id: entry.id, deadline: entry.deadline) }
    }

    private mutating func removeFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// One timer for a `DeadlineQueue`, re-armed for the earliest deadline.
/// Lives on its channel's event loop.
struct DeadlineTimer {
    private var queue = DeadlineQueue()
    private var scheduled: (deadline: NIODeadline, task: Scheduled<Void>)?

    /// Adds a call's deadline; arms the timer through `schedule` when it is the earliest.
    mutating func add(
        id: UInt64,
        deadline: NIODeadline,
        liveCount: Int,
        isLive: (UInt64) -> Bool,
        schedule: (NIODeadline) -> Scheduled<Void>
    ) {
        if queue.count > 2 * liveCount + 1024 { queue.compact(keeping: isLive) }
        queue.insert(id: id, deadline: deadline)
        if let scheduled, scheduled.deadline <= deadline { return }
        scheduled?.task.cancel()
        scheduled = (deadline, schedule(deadline))
    }

    /// Called when the timer fires: the expired ids, and the timer re-armed for the next.
    mutating func fire(now: NIODeadline, schedule: (NIODeadline) -> Scheduled<Void>) -> [UInt64] {
        scheduled = nil
        let expired = queue.popExpired(now: now)
        if let next = queue.earliest { scheduled = (next, schedule(next)) }
        return expired
    }

    mutating func cancel() {
        scheduled?.task.cancel()
        scheduled = nil
    }
}
