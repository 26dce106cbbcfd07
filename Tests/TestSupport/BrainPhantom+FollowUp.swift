extension BrainPhantom {
    /// One patient's three examinations with known RANO-BM (BASELINE, PR, PD),
    /// studies `<prefix>1`…`<prefix>3` (series `.1`):
    /// - baseline: lesions of 20, 12 and 8 mm (targets 20 + 12 = 32 mm);
    /// - first follow-up, the head lying 5, −4, 6 mm away: 20 → 16 mm,
    ///   12 → 6 mm, the 8 mm lesion gone (22 mm: −31 %, PR);
    /// - second follow-up: 16 → 22 mm (28 mm: +27 % over the nadir, 6 mm
    ///   larger) and a new 14 mm lesion: PD.
    public static func threeExaminations(studyPrefix prefix: String) -> (baseline: BrainPhantom, first: BrainPhantom, second: BrainPhantom)
    {
        var baseline = BrainPhantom()
        baseline.study = prefix + "1"
        baseline.series = prefix + "1.1"
        baseline.studyDate = "20260105"
        var first = baseline
        first.study = prefix + "2"
        first.series = prefix + "2.1"
        first.studyDate = "20260405"
        first.headShift = SIMD3(5, -4, 6)
        first.lesions = [.init(center: SIMD3(20, -15, 70), radius: 8), .init(center: SIMD3(-35, 25, 90), radius: 3)]
        var second = baseline
        second.study = prefix + "3"
        second.series = prefix + "3.1"
        second.studyDate = "20260705"
        second.lesions = [
            .init(center: SIMD3(20, -15, 70), radius: 11), .init(center: SIMD3(-35, 25, 90), radius: 3),
            .init(center: SIMD3(-20, -40, 60), radius: 7),
        ]
        return (baseline, first, second)
    }
}
