import FollowUp
import Testing

@Suite struct ResponseAssessmentTests {
    typealias M = ResponseAssessment.Measurement
    static func lesion(_ track: Int, _ diameter: Double, slices: Int = 4) -> M {
        M(track: track, longestDiameter: diameter, volume: 4 / 3 * Double.pi * pow3(diameter / 2), slices: slices)
    }
    static func pow3(_ x: Double) -> Double { x * x * x }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var timePoints: [[M]]
        var expected: [ResponseAssessment.Category]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "shrinking by 30 % is a partial response", timePoints: [[lesion(1, 20), lesion(2, 10)], [lesion(1, 14), lesion(2, 7)]],
            expected: [.baseline, .partialResponse]),
        Case(
            name: "shrinking by 29 % is stable", timePoints: [[lesion(1, 20), lesion(2, 10)], [lesion(1, 14.3), lesion(2, 7)]],
            expected: [.baseline, .stableDisease]),
        Case(
            name: "every lesion gone is a complete response", timePoints: [[lesion(1, 20)], []], expected: [.baseline, .completeResponse]),
        Case(
            name: "20 % over the nadir with a lesion 5 mm larger is progression",
            timePoints: [[lesion(1, 30)], [lesion(1, 20)], [lesion(1, 25)]], expected: [.baseline, .partialResponse, .progressiveDisease]),
        Case(
            name: "20 % over a small nadir but under 5 mm of growth is not progression",
            timePoints: [[lesion(1, 12)], [lesion(1, 10)], [lesion(1, 12.5)]], expected: [.baseline, .stableDisease, .stableDisease]),
        Case(
            name: "a new measurable lesion is progression even while targets shrink",
            timePoints: [[lesion(1, 20)], [lesion(1, 10), lesion(2, 11)]], expected: [.baseline, .progressiveDisease]),
        Case(
            name: "a new lesion under 10 mm is not (yet) progression",
            timePoints: [[lesion(1, 20)], [lesion(1, 19), lesion(2, 6)]], expected: [.baseline, .stableDisease]),
        Case(
            name: "a baseline without measurable disease cannot be assessed until a measurable lesion appears",
            timePoints: [[lesion(1, 8)], [lesion(1, 9)], [lesion(1, 9), lesion(2, 12)]],
            expected: [.baseline, .notEvaluable, .progressiveDisease]),
        Case(name: "no lesion at all, ever", timePoints: [[], []], expected: [.baseline, .notEvaluable]),
        Case(
            name: "a lesion seen on one slice only is not measurable",
            timePoints: [[lesion(1, 15, slices: 1)], [lesion(1, 30, slices: 1)]], expected: [.baseline, .notEvaluable]),
        Case(
            name: "regrowth after a complete response is progression",
            timePoints: [[lesion(1, 20)], [], [lesion(1, 6)]], expected: [.baseline, .completeResponse, .progressiveDisease]),
    ]

    @Test("RANO-BM categories", arguments: cases)
    func categories(_ c: Case) {
        #expect(ResponseAssessment.assess(c.timePoints).map(\.category) == c.expected)
    }

    @Test("at most five targets, the largest; ties broken by track so the choice is stable")
    func targets() {
        let diameters: [Double] = [12, 30, 12, 15, 25, 11, 9]
        let baseline: [M] = diameters.enumerated().map { Self.lesion($0.offset + 1, $0.element) }
        #expect(ResponseAssessment.targets(baseline: baseline) == [2, 5, 4, 1, 3])
        let points = ResponseAssessment.assess([baseline, baseline])
        let expectedSum: Double = 94
        #expect(points[0].sumOfDiameters == expectedSum)
        #expect(points[1].changeFromBaseline == 0)
    }

    @Test("volumetric thresholds: −65 % partial response, +73 % from nadir progression")
    func volumetric() {
        let base = M(track: 1, longestDiameter: 20, volume: 1000, slices: 5)
        let shrunk = M(track: 1, longestDiameter: 19, volume: 340, slices: 5)
        let regrown = M(track: 1, longestDiameter: 19.5, volume: 600, slices: 5)
        let points = ResponseAssessment.assess([[base], [shrunk], [regrown]])
        #expect(points.map(\.volumetricCategory) == [.baseline, .partialResponse, .progressiveDisease])
        #expect(points.map(\.category) == [.baseline, .stableDisease, .stableDisease])
        #expect(points[2].volumeNadir == 340)
    }
}
