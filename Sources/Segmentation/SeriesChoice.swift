public import DICOM
import Foundation

/// Which series of a study to segment: an MR series of at least 10 images
/// whose sequence the engine reads (a model card's `sequences`), told from
/// the DICOM attributes and not only the description — contrast agent,
/// scanning sequence, TR/TE/TI, image type — with a site's mapping of its
/// own protocol names first (docs/segmentation.md). Post-contrast T1 before
/// FLAIR (the engine's order), the largest series of a kind first.
public struct SeriesChoice: Sendable, Equatable {
    /// The MR sequences Metis tells apart, by the names model cards use.
    public enum Sequence: String, Sendable, CaseIterable {
        case t1c, flair, t2, t1, dwi, other

        /// In words, for answers.
        public var words: String {
            switch self {
            case .t1c: "post-contrast T1"
            case .flair: "FLAIR"
            case .t2: "T2"
            case .t1: "T1 without contrast"
            case .dwi: "diffusion"
            case .other: "another MR sequence"
            }
        }
    }

    public struct Candidate: Sendable, Equatable {
        public var seriesInstanceUID: String
        public var modality: String
        public var description: String
        public var instances: Int
        /// From one of the series' images; empty or nil when absent.
        public var protocolName = ""
        public var contrastAgent = ""
        public var scanningSequence: [String] = []
        public var imageType: [String] = []
        public var repetitionTime: Double?
        public var echoTime: Double?
        public var inversionTime: Double?

        public init(seriesInstanceUID: String, modality: String, description: String, instances: Int) {
            self.seriesInstanceUID = seriesInstanceUID
            self.modality = modality
            self.description = description
            self.instances = instances
        }

        /// The attributes the rule reads (`attributeTags`), every value of each as text, from a data set or its DICOM JSON.
        public init(seriesInstanceUID: String, instances: Int, values: (Tag) -> [String]) {
            func first(_ tag: Tag) -> String { values(tag).first ?? "" }
            self.init(
                seriesInstanceUID: seriesInstanceUID, modality: first(Tag.modality), description: first(Tag.seriesDescription),
                instances: instances)
            protocolName = first(Tag.protocolName)
            contrastAgent = first(Tag.contrastBolusAgent)
            scanningSequence = values(Tag.scanningSequence).map { $0.trimmingCharacters(in: .whitespaces) }
            imageType = values(Tag.imageType).map { $0.trimmingCharacters(in: .whitespaces) }
            repetitionTime = Double(first(Tag.repetitionTime).trimmingCharacters(in: .whitespaces))
            echoTime = Double(first(Tag.echoTime).trimmingCharacters(in: .whitespaces))
            inversionTime = Double(first(Tag.inversionTime).trimmingCharacters(in: .whitespaces))
        }

        /// Modality, description, protocol name, contrast agent, scanning sequence, image type, TR, TE, TI.
        public static let attributeTags = [
            Tag.modality, Tag.seriesDescription, Tag.protocolName, Tag.contrastBolusAgent, Tag.scanningSequence, Tag.imageType,
            Tag.repetitionTime, Tag.echoTime, Tag.inversionTime,
        ]
    }

    public var seriesInstanceUID: String
    public var sequence: Sequence
    /// Why this one, in words the response shows.
    public var reason: String

    public init(seriesInstanceUID: String, sequence: Sequence = .other, reason: String) {
        self.seriesInstanceUID = seriesInstanceUID
        self.sequence = sequence
        self.reason = reason
    }

    /// No series the engine reads: what it reads and what the study holds.
    public struct NoMatch: Error, Sendable, Equatable, CustomStringConvertible {
        public var accepted: [Sequence]
        /// Each MR series of the study and how it was classified.
        public var found: [(description: String, sequence: Sequence, instances: Int)]
        public var description: String {
            let wanted = accepted.map(\.words).joined(separator: " or ")
            guard !found.isEmpty else {
                return "the engine reads \(wanted); the study has no MR series of at least \(minimumImages) images"
            }
            let held = found.map { "\($0.sequence.words) (\"\($0.description)\", \($0.instances) images)" }.joined(separator: ", ")
            return "the engine reads \(wanted); the study holds \(held)"
        }

        public static func == (a: NoMatch, b: NoMatch) -> Bool {
            a.accepted == b.accepted
                && a.found.map { "\($0.description)|\($0.sequence)|\($0.instances)" }
                    == b.found.map { "\($0.description)|\($0.sequence)|\($0.instances)" }
        }
    }

    public static let minimumImages = 10
    /// What Metis's engines read when a card says nothing: post-contrast T1, else FLAIR.
    public static let defaultSequences: [Sequence] = [.t1c, .flair]

    static let contrastWords = [
        "gado", "gad", "gd", "+c", "c+", "post", "contrast", "inj", "ce ", "apres", "dotarem", "gadovist", "multihance", "prohance",
    ]
    static let noContrastWords = ["sans", "without", "w/o", "pre ", "pre-", "non inj", "no contrast", "native", "natif"]
    static let t1Words = ["t1", "mprage", "spgr", "bravo", "vibe", "tfe", "flash", "fspgr", "mp2rage"]
    static let flairWords = ["flair", "dark-fluid", "dark fluid", "darkfluid"]
    static let diffusionWords = ["dwi", "diffusion", "adc", "trace", "dti", "b1000", "tensor"]
    static let t2Words = ["t2", "tse", "fse", "haste"]

    /// The sequence of a candidate and the evidence, in words. `siteNames`:
    /// the site's protocol or description words → sequence, tried first.
    public static func classify(_ c: Candidate, siteNames: [String: Sequence] = [:]) -> (Sequence, String) {
        let text =
            " " + (c.description + " " + c.protocolName).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) + " "
        func has(_ words: [String]) -> Bool { words.contains { text.contains($0) } }
        for (name, sequence) in siteNames.sorted(by: { $0.key.count > $1.key.count }) {
            let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            if !folded.isEmpty, text.contains(folded) { return (sequence, "the site's name \"\(name)\"") }
        }
        let types = c.imageType.map { $0.uppercased() }
        if types.contains(where: { ["DIFFUSION", "ADC", "TRACEW", "FA"].contains($0) }) || has(diffusionWords) {
            return (
                .dwi,
                types.contains("DIFFUSION") || types.contains("ADC")
                    ? "its image type \(c.imageType.joined(separator: "\\"))" : "its description"
            )
        }
        let inversion = c.inversionTime ?? 0, tr = c.repetitionTime ?? 0, te = c.echoTime ?? 0
        if inversion >= 1400 && tr >= 4000 { return (.flair, "its inversion time \(Int(inversion)) ms and TR \(Int(tr)) ms") }
        if has(flairWords) { return (.flair, "its description") }
        let agent = !c.contrastAgent.trimmingCharacters(in: .whitespaces).isEmpty
        let saysNoContrast = has(noContrastWords)
        let saysContrast = has(contrastWords) && !saysNoContrast
        let gradient = c.scanningSequence.contains("GR")
        let t1Physics = tr > 0 && te > 0 && te < 20 && (tr < 1000 || (gradient && tr < 3000))
        let t2Physics = tr >= 2000 && te >= 60 && inversion < 1400
        let t1 = t1Physics || (has(t1Words) && !t2Physics)
        if t1 && (agent || saysContrast) {
            return (
                .t1c,
                agent
                    ? "its contrast agent \"\(c.contrastAgent)\"\(t1Physics ? " and T1 timing (TR \(Int(tr)), TE \(te) ms)" : "")"
                    : "its description"
            )
        }
        if t2Physics || (has(t2Words) && !t1) {
            return (.t2, t2Physics ? "its timing (TR \(Int(tr)), TE \(Int(te)) ms)" : "its description")
        }
        if t1 { return (.t1, t1Physics ? "T1 timing and no contrast agent" : "its description, with no contrast agent") }
        return (.other, "nothing in its attributes names a sequence")
    }

    /// The series to segment for an engine reading `accepted` (in order of preference).
    public static func pick(
        _ candidates: [Candidate], accepted: [Sequence] = defaultSequences, siteNames: [String: Sequence] = [:]
    ) -> Result<SeriesChoice, NoMatch> {
        let classified = classifiedVolumes(candidates, siteNames: siteNames)
        for sequence in accepted {
            let group = classified.filter { $0.1.0 == sequence }
            if let best = group.max(by: { $0.0.instances < $1.0.instances }) {
                return .success(
                    SeriesChoice(
                        seriesInstanceUID: best.0.seriesInstanceUID, sequence: sequence,
                        reason: "\(sequence.words) by \(best.1.1): \"\(best.0.description)\" (\(best.0.instances) images)"))
            }
        }
        return .failure(NoMatch(accepted: accepted, found: classified.map { ($0.0.description, $0.1.0, $0.0.instances) }))
    }

    /// A series for each input channel of an engine reading several
    /// (`channels`: the sequences of each, in order of preference), each
    /// series used once; `fixed` (a requested series) takes the first channel
    /// that reads its sequence, or the first channel when none does.
    /// Fails with the first channel that has none, its number (1-based) and what the study holds.
    public static func pick(
        _ candidates: [Candidate], channels: [[Sequence]], fixed: SeriesChoice? = nil, siteNames: [String: Sequence] = [:]
    ) -> Result<[SeriesChoice], ChannelMismatch> {
        let fixedChannel = fixed.map { fixed in channels.firstIndex { $0.contains(fixed.sequence) } ?? 0 }
        var chosen = [SeriesChoice]()
        for (index, accepted) in channels.enumerated() {
            if index == fixedChannel, let fixed {
                chosen.append(fixed)
                continue
            }
            let taken = chosen.map(\.seriesInstanceUID) + (fixed.map { [$0.seriesInstanceUID] } ?? [])
            let free = candidates.filter { !taken.contains($0.seriesInstanceUID) }
            switch pick(free, accepted: accepted, siteNames: siteNames) {
            case .success(var choice):
                if channels.count > 1 { choice.reason = "channel \(index + 1): " + choice.reason }
                chosen.append(choice)
            case .failure(var none):
                // What the whole study holds, the series other channels took included.
                none.found = classifiedVolumes(candidates, siteNames: siteNames).map { ($0.0.description, $0.1.0, $0.0.instances) }
                return .failure(ChannelMismatch(channel: index + 1, channels: channels.count, none: none))
            }
        }
        return .success(chosen)
    }

    /// The MR series of at least `minimumImages` images, each with its sequence and the evidence.
    static func classifiedVolumes(_ candidates: [Candidate], siteNames: [String: Sequence]) -> [(Candidate, (Sequence, String))] {
        candidates.filter { $0.modality == "MR" && $0.instances >= minimumImages }.map { ($0, classify($0, siteNames: siteNames)) }
    }

    /// No series for one input channel of a multi-sequence engine.
    public struct ChannelMismatch: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based.
        public var channel: Int
        public var channels: Int
        public var none: NoMatch
        public var description: String {
            channels == 1
                ? none.description
                : "input channel \(channel) of \(channels) needs \(none.accepted.map(\.words).joined(separator: " or ")), which the study lacks: \(none)"
        }
    }

    /// The sequences a model card's `sequences` names for one input channel, in Metis's terms.
    public static func sequences(named names: [String]) -> [Sequence] {
        names.compactMap { Sequence(rawValue: $0) }
    }
}
