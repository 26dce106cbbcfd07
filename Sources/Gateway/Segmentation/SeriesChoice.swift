import Foundation

/// Which series of a study to segment when the client does not say: the 3D
/// MR series most likely to be a post-contrast T1, else a FLAIR, else the
/// largest MR series (docs/api.md). A series needs at least 10 images.
struct SeriesChoice: Sendable, Equatable {
    struct Candidate: Sendable, Equatable {
        var seriesInstanceUID: String
        var modality: String
        var description: String
        var instances: Int
    }

    var seriesInstanceUID: String
    /// Why this one, in words the response shows.
    var reason: String

    static let minimumImages = 10
    static let contrastWords = ["gado", "gad", "gd", "+c", "c+", "post", "contrast", "inj", "ce "]
    static let t1Words = ["t1", "mprage", "spgr", "bravo", "vibe", "tfe", "flash"]

    static func pick(_ candidates: [Candidate]) -> SeriesChoice? {
        let volumes = candidates.filter { $0.modality == "MR" && $0.instances >= minimumImages }
        func words(_ candidate: Candidate) -> String {
            " " + candidate.description.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) + " "
        }
        func largest(_ group: [Candidate]) -> Candidate? { group.max { $0.instances < $1.instances } }
        let postContrast = volumes.filter { c in
            let text = words(c)
            return t1Words.contains { text.contains($0) } && contrastWords.contains { text.contains($0) }
        }
        if let best = largest(postContrast) {
            return SeriesChoice(seriesInstanceUID: best.seriesInstanceUID, reason: "post-contrast T1 by its description \"\(best.description)\" (\(best.instances) images)")
        }
        if let best = largest(volumes.filter { words($0).contains("flair") }) {
            return SeriesChoice(seriesInstanceUID: best.seriesInstanceUID, reason: "FLAIR by its description \"\(best.description)\" (\(best.instances) images)")
        }
        if let best = largest(volumes) {
            return SeriesChoice(
                seriesInstanceUID: best.seriesInstanceUID,
                reason: "the largest MR series (\(best.instances) images, \"\(best.description)\"); no description names a post-contrast T1 or a FLAIR")
        }
        return nil
    }
}
