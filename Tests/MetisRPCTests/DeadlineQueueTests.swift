import NIOCore
import Testing

@testable import MetisRPC

@Suite("Deadline queue")
struct DeadlineQueueTests {
    @Test("expires in deadline order, whatever the insertion order")
    func order() {
        var queue = DeadlineQueue()
        let base = NIODeadline.uptimeNanoseconds(1_000_000)
        let offsets: [Int64] = [50, 10, 40, 10, 30, 20, 60]
        var earliestFlags = [Bool]()
        for (index, offset) in offsets.enumerated() {
            earliestFlags.append(queue.insert(id: UInt64(index), deadline: base + .nanoseconds(offset)))
        }
        #expect(earliestFlags == [true, true, false, false, false, false, false])
        #expect(queue.earliest == base + .nanoseconds(10))
        #expect(queue.popExpired(now: base + .nanoseconds(5)).isEmpty)
        let first = queue.popExpired(now: base + .nanoseconds(30))
        #expect(Set(first.prefix(2)) == [1, 3])
        #expect(Array(first.dropFirst(2)) == [5, 4])
        #expect(queue.popExpired(now: base + .nanoseconds(1000)) == [2, 0, 6])
        #expect(queue.count == 0)
        #expect(queue.earliest == nil)
    }

    @Test("compaction drops calls no longer in flight and keeps the order of the rest")
    func compaction() {
        var queue = DeadlineQueue()
        let base = NIODeadline.uptimeNanoseconds(0)
        for id in 0..<1000 as Range<UInt64> { queue.insert(id: id, deadline: base + .nanoseconds(Int64(1000 - id))) }
        queue.compact { $0 % 100 == 0 }
        #expect(queue.count == 10)
        #expect(queue.popExpired(now: base + .nanoseconds(10_000)) == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0])
    }
}
