import Testing

@testable import Segmentation

@Suite("Picking the series to segment")
struct SeriesChoiceTests {
    typealias Candidate = SeriesChoice.Candidate

    @Test("post-contrast T1 first, then FLAIR, then the largest MR series; localizers and other modalities never")
    func order() {
        let localizer = Candidate(seriesInstanceUID: "1", modality: "MR", description: "Localizer", instances: 3)
        let t2 = Candidate(seriesInstanceUID: "2", modality: "MR", description: "T2 TSE", instances: 40)
        let flair = Candidate(seriesInstanceUID: "3", modality: "MR", description: "3D FLAIR", instances: 160)
        let t1 = Candidate(seriesInstanceUID: "4", modality: "MR", description: "T1 MPRAGE", instances: 176)
        let t1Gado = Candidate(seriesInstanceUID: "5", modality: "MR", description: "T1 3D Gado", instances: 176)
        let rt = Candidate(seriesInstanceUID: "6", modality: "RTSTRUCT", description: "Metis lesions", instances: 1)
        #expect(SeriesChoice.pick([localizer, t2, flair, t1, t1Gado, rt])?.seriesInstanceUID == "5")
        #expect(SeriesChoice.pick([localizer, t2, flair, t1, rt])?.seriesInstanceUID == "3")
        #expect(SeriesChoice.pick([localizer, t2, t1])?.seriesInstanceUID == "4")
        #expect(SeriesChoice.pick([localizer, rt]) == nil)
        let french = Candidate(seriesInstanceUID: "7", modality: "MR", description: "T1 apres injection de Gadolinium", instances: 120)
        #expect(SeriesChoice.pick([flair, french])?.seriesInstanceUID == "7")
    }
}
