import Foundation
import Testing

@testable import StorageService

@Suite("disk threads")
struct DiskThreadsTests {
    @Test("the background thread runs at nice 10; the call threads and the rest of the process keep their priority")
    func priorities() async throws {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #expect(try await DiskThreads.background.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) } == 10)
        #expect(try await DiskThreads.shared.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) } == before)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == before)
    }
}
