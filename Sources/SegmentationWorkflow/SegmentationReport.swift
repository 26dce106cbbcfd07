public import Segmentation

/// What a segmentation answers: `POST /segmentation/{study}`, a finished job
/// of `/api/v1/segmentations`, and `metis segment --json` (docs/api.md).
public struct SegmentationReport: Encodable, Sendable {
    public struct Output: Encodable, Sendable {
        /// rtstruct or seg.
        public var format: String
        public var sopInstanceUID: String
        public var seriesInstanceUID: String
        /// Where to retrieve it: a DICOMweb path, or a file URL offline.
        public var retrieveURL: String
    }

    /// What follow-up made of the run.
    public struct Tracking: Encodable, Sendable {
        public var recorded: Bool
        public var reason: String?
        /// The patient's tracks after this study was recorded.
        public var tracks: Int?

        public init(recorded: Bool, reason: String? = nil, tracks: Int? = nil) {
            self.recorded = recorded
            self.reason = reason
            self.tracks = tracks
        }
    }

    /// The series of one input channel of the engine, and why it was chosen.
    public struct Channel: Encodable, Sendable {
        public var seriesInstanceUID: String
        /// t1c, flair, t2, t1, dwi, or other (a requested series).
        public var sequence: String
        public var choice: String
    }

    public struct Timing: Encodable, Sendable {
        public var stage: String
        public var seconds: Double
    }

    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    /// Why this series (the series-choice rule's words, or "requested").
    public var seriesChoice: String
    /// The series of each input channel, the first being `seriesInstanceUID` (one entry for an engine reading one series).
    public var channels: [Channel]
    /// Whether the segmented images went through lossy compression (a lossy transfer syntax, or Lossy Image Compression "01").
    public var lossyInput: Bool
    public var engine: String
    public var engineVersion: String
    /// What the result is ("automatic, research use, not validated on patient data"), as written into the output.
    public var notice: String
    public var lesions: [Lesion]
    /// The model's other labels (whole tumour, oedema…), written in the output after the lesions as their own ROIs or segments.
    public var labels: [String]
    /// Components dropped before they became lesions, each with its reason.
    public var rejected: [LesionPlausibility.Rejection]
    public var intracranialVolumeMm3: Double
    /// The stored RTSTRUCT or SEG; nil when no lesion was found (nothing is written then).
    public var output: Output?
    /// Metis's earlier results for the study that this one replaced (deleted).
    public var replacedSeries: [String]
    /// Nil where nothing records follow-up (`metis segment`).
    public var tracking: Tracking?
    public var timings: [Timing]
    public var elapsedSeconds: Double
}
