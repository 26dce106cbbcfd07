import FollowUp
import Testing

@Suite struct LesionMatcherTests {
    @Test("the Hungarian assignment finds the optimum where a greedy choice would not")
    func optimum() {
        // Greedy takes (0, 0) = 1 and is left with (1, 1) = 10; the optimum is 2 + 3.
        #expect(LesionAssignment.assign([[1, 2], [3, 10]]) == [1, 0])
        // More rows than columns, and a limit that leaves a row unassigned.
        #expect(LesionAssignment.assign([[1], [0.5], [7]]) == [nil, 0, nil])
        #expect(LesionAssignment.assign([[5, 9]], limit: 4) == [nil])
        #expect(LesionAssignment.assign([]) == [])
        // Ties: any optimal answer is fine, but every row gets a distinct column.
        let tied = LesionAssignment.assign([[1, 1], [1, 1]])
        #expect(Set(tied.compactMap { $0 }) == [0, 1])
    }

    @Test("a head shifted between scans: lesions follow the shift; grown, vanished and new lesions are told apart")
    func shiftedHead() {
        let L = LesionMatcher.Lesion.init
        let previous = [L(SIMD3(20, -15, 70), 20), L(SIMD3(-35, 25, 90), 12), L(SIMD3(10, 40, 40), 8)]
        let shift = SIMD3<Double>(12, -9, 6)
        // Lesion 0 grew (its centroid moved 4 mm), lesion 1 vanished, lesion 2 shrank, one is new.
        let current = [L(SIMD3(10, 40, 40) + shift, 5), L(SIMD3(-40, -30, 60) + shift, 7), L(SIMD3(24, -15, 70) + shift, 28)]
        let matches = LesionMatcher().match(
            previous: previous, previousHead: SIMD3(0, 0, 75), current: current, currentHead: SIMD3(0, 0, 75) + shift)
        #expect(matches == [2, nil, 0])
        // Without the heads' positions the 15 mm shift breaks the small lesion's match.
        let unaligned = LesionMatcher().match(previous: previous, previousHead: nil, current: current, currentHead: nil)
        #expect(unaligned[0] == nil)
    }
}
