import DICOM
import TestSupport
import Testing

@testable import Segmentation

@Suite("Picking the series to segment")
struct SeriesChoiceTests {
    typealias Candidate = SeriesChoice.Candidate

    static func candidate(
        _ uid: String, _ description: String, instances: Int = 100, agent: String = "", scanning: [String] = [], imageType: [String] = [],
        tr: Double? = nil, te: Double? = nil, ti: Double? = nil, modality: String = "MR"
    ) -> Candidate {
        var c = Candidate(seriesInstanceUID: uid, modality: modality, description: description, instances: instances)
        c.contrastAgent = agent
        c.scanningSequence = scanning
        c.imageType = imageType
        c.repetitionTime = tr
        c.echoTime = te
        c.inversionTime = ti
        return c
    }

    static func picked(
        _ candidates: [Candidate], accepted: [SeriesChoice.Sequence] = SeriesChoice.defaultSequences,
        siteNames: [String: SeriesChoice.Sequence] = [:]
    ) -> String? {
        try? SeriesChoice.pick(candidates, accepted: accepted, siteNames: siteNames).get().seriesInstanceUID
    }

    @Test("post-contrast T1 first, then FLAIR; localizers, other modalities, T2 and T1 without contrast never")
    func order() {
        let localizer = Self.candidate("1", "Localizer", instances: 3)
        let t2 = Self.candidate("2", "T2 TSE", instances: 40)
        let flair = Self.candidate("3", "3D FLAIR", instances: 160)
        let t1 = Self.candidate("4", "T1 MPRAGE", instances: 176)
        let t1Gado = Self.candidate("5", "T1 3D Gado", instances: 176)
        let rt = Self.candidate("6", "Metis lesions", instances: 1, modality: "RTSTRUCT")
        #expect(Self.picked([localizer, t2, flair, t1, t1Gado, rt]) == "5")
        #expect(Self.picked([localizer, t2, flair, t1, rt]) == "3")
        #expect(Self.picked([localizer, t2, t1]) == nil)
        #expect(Self.picked([localizer, rt]) == nil)
        let french = Self.candidate("7", "T1 apres injection de Gadolinium", instances: 120)
        #expect(Self.picked([flair, french]) == "7")
        #expect(
            Self.picked([Self.candidate("8", "T1 3D SANS INJECTION"), flair]) == "3", "a French 'without injection' is no post-contrast T1")
    }

    @Test(
        "tells sequences from their attributes when the description says nothing",
        arguments: [
            (candidate("a", "", agent: "DOTAREM", scanning: ["GR", "IR"], tr: 2300, te: 2.98, ti: 900), SeriesChoice.Sequence.t1c),
            (candidate("b", "", agent: "Gadovist", scanning: ["SE"], tr: 550, te: 12), .t1c),
            (candidate("c", "", scanning: ["GR", "IR"], tr: 2300, te: 2.98, ti: 900), .t1),
            (candidate("d", "", scanning: ["SE", "IR"], tr: 9000, te: 120, ti: 2500), .flair),
            (candidate("e", "", agent: "DOTAREM", scanning: ["SE", "IR"], tr: 6000, te: 100, ti: 2000), .flair),
            (candidate("f", "", scanning: ["SE"], tr: 4000, te: 100), .t2),
            (candidate("g", "ep2d_diff", imageType: ["ORIGINAL", "PRIMARY", "DIFFUSION", "TRACEW"], tr: 5000, te: 90), .dwi),
            (candidate("h", "ADC", imageType: ["DERIVED", "PRIMARY", "ADC"]), .dwi),
            (candidate("i", "survey"), .other),
        ])
    func attributes(candidate: Candidate, expected: SeriesChoice.Sequence) {
        #expect(SeriesChoice.classify(candidate).0 == expected, "\(candidate.seriesInstanceUID)")
    }

    @Test("a site's protocol names come first, accents and case aside")
    func siteNames() {
        let local = Self.candidate("1", "NEURO MÉTA 3D", scanning: ["GR"], tr: 2300, te: 3)
        #expect(SeriesChoice.classify(local).0 == .t1)
        #expect(SeriesChoice.classify(local, siteNames: ["neuro meta 3d": .t1c]).0 == .t1c)
        #expect(Self.picked([local], siteNames: ["Neuro Méta": .t1c]) == "1")
    }

    @Test("an engine is fed only what it reads; the refusal says what it reads and what the study holds")
    func refusal() throws {
        let flair = Self.candidate("1", "AX FLAIR", instances: 40)
        let t2 = Self.candidate("2", "T2 TSE", instances: 30)
        #expect(Self.picked([flair, t2], accepted: [.t1c]) == nil)
        #expect(Self.picked([flair, t2], accepted: [.flair]) == "1")
        let failure = try #require(SeriesChoice.pick([t2, Self.candidate("3", "DWI", instances: 25)], accepted: [.t1c, .flair]).failure)
        #expect(failure.description.contains("post-contrast T1 or FLAIR"))
        #expect(failure.description.contains("T2 (\"T2 TSE\", 30 images)"))
        #expect(failure.description.contains("diffusion"))
    }

    @Test(
        "the phantom series are classified from what their files say",
        arguments: [("mni-t1c", SeriesChoice.Sequence.t1c), ("mni-flair", .flair)])
    func phantoms(name: String, expected: SeriesChoice.Sequence) throws {
        let files = try PhantomCase(name).files()
        let candidate = Candidate(seriesInstanceUID: "x", instances: files.count) { files[0].dataset.strings($0) ?? [] }
        #expect(SeriesChoice.classify(candidate).0 == expected)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}

@Suite("Picking one series per input channel")
struct ChannelChoiceTests {
    typealias Candidate = SeriesChoice.Candidate

    @Test("a T1c + FLAIR model gets one series of each; each series once; a requested series is the first channel")
    func twoChannels() throws {
        let t1c = SeriesChoiceTests.candidate("1", "T1 MPRAGE gado")
        let flair = SeriesChoiceTests.candidate("2", "AX FLAIR", instances: 40)
        let t2 = SeriesChoiceTests.candidate("3", "T2 TSE", instances: 30)
        let chosen = try SeriesChoice.pick([t2, flair, t1c], channels: [[.t1c], [.flair]]).get()
        #expect(chosen.map(\.seriesInstanceUID) == ["1", "2"])
        #expect(chosen.map(\.sequence) == [.t1c, .flair])
        #expect(chosen[1].reason.hasPrefix("channel 2: FLAIR"))
        // Two channels that both read FLAIR cannot share one series.
        let twice = try #require(SeriesChoice.pick([t1c, flair], channels: [[.flair], [.flair]]).failure)
        #expect(twice.channel == 2)
        // A requested series takes the channel that reads its sequence (a FLAIR that just arrived, the FLAIR channel),
        // the first channel when none does.
        let flairRequested = SeriesChoice(seriesInstanceUID: "2", sequence: .flair, reason: "requested")
        #expect(
            try SeriesChoice.pick([t2, flair, t1c], channels: [[.t1c], [.flair]], fixed: flairRequested).get().map(\.seriesInstanceUID)
                == ["1", "2"])
        let t2Requested = SeriesChoice(seriesInstanceUID: "3", sequence: .t2, reason: "requested")
        #expect(
            try SeriesChoice.pick([t2, flair, t1c], channels: [[.t1c], [.flair]], fixed: t2Requested).get().map(\.seriesInstanceUID)
                == ["3", "2"])
    }

    @Test("a study lacking a channel's sequence: the refusal names the channel, the sequence and what the study holds")
    func missing() throws {
        let t1c = SeriesChoiceTests.candidate("1", "T1 MPRAGE gado")
        let failure = try #require(SeriesChoice.pick([t1c], channels: [[.t1c], [.flair, .t2]]).failure)
        #expect(failure.channel == 2)
        #expect(failure.description.contains("input channel 2 of 2 needs FLAIR or T2"), "\(failure)")
        // The series the first channel took is still listed among what the study holds.
        #expect(failure.description.contains("post-contrast T1 (\"T1 MPRAGE gado\", 100 images)"), "\(failure)")
        // One channel: the one-series wording.
        let single = try #require(SeriesChoice.pick([t1c], channels: [[.flair]]).failure)
        #expect(single.description == single.none.description)
    }
}
