import Foundation

/// Which series of a study to segment when the client does not say: the 3D
/// MR series most likely to be a post-contrast T1, else a FLAIR, else the
/// largest MR series (docs/segmentation.md). A series needs at least 10 images.
public struct SeriesChoice: Sendable, Equatable {
    public struct Candidate: Sendable, Equatable {
        public var seriesInstanceUID: String
        public var modality: String
        public var description: String
        public var instances: Int

        public init(seriesInstanceUID: String, modality: String, description: String, instances: Int) {
            self.seriesInstanceUID = seriesInstanceUID
            self.modality = modality
            self.description = description
            self.instances = instances
        }
    }

    public var seriesInstanceUID: String
    /// Why this one, in words the response shows.
    public var reason: String

    public init(seriesInstanceUID: String, reason: String) {
        self.seriesInstanceUID = seriesInstanceUID
        self.reason = reason
    }

    public static let minimumImages = 10
    static let contrastWords = ["gado", "gad", "gd", "+c", "c+", "post", "contrast", "inj", "ce "]
    static let t1Words = ["t1", "mprage", "spgr", "bravo", "vibe", "tfe", "flash"]

    public static func pick(_ candidates: [Candidate]) -> SeriesChoice? {
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
