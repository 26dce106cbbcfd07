public import Imaging

/// One lesion as an output writes it: its name, display colour and contours.
public struct StructureSetLesion: Sendable {
    public var name: String
    /// ROIDisplayColor, 0...255 each.
    public var color: (red: Int, green: Int, blue: Int)
    public var contours: [LesionContour]

    public init(name: String, color: (red: Int, green: Int, blue: Int), contours: [LesionContour]) {
        self.name = name
        self.color = color
        self.contours = contours
    }

    /// Distinct colours for lesions 1, 2, … (repeating after twelve).
    public static func color(forLesion number: Int) -> (red: Int, green: Int, blue: Int) {
        let palette = [
            (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40),
        ]
        let entry = palette[(number - 1) % palette.count]
        return (entry.0, entry.1, entry.2)
    }
}

/// Who made the contours, written into the ROI generation fields, and what
/// the result is: every output says it is automatic, with its notice.
public struct GeneratingAlgorithm: Sendable {
    public var name: String
    public var version: String
    /// The full notice (StructureSetDescription, the SEG's content description):
    /// e.g. "automatic, research use, not validated on patient data".
    public var notice: String
    /// RTROIInterpretedType of every ROI; empty (type 2) unless a model card names one.
    public var interpretedType: String

    public init(name: String, version: String, notice: String = GeneratingAlgorithm.defaultNotice, interpretedType: String = "") {
        self.name = name
        self.version = version
        self.notice = notice
        self.interpretedType = interpretedType
    }

    public static let defaultNotice = "automatic, research use, not validated on patient data"

    /// "name version", cut to the 64 characters of an LO value (ROIGenerationDescription, SegmentAlgorithmName).
    public var description: String { String("\(name) \(version)".prefix(64)) }

    /// The output's SeriesDescription: says it is automatic, and starts with "Metis lesions".
    public var seriesDescription: String { String("Metis lesions (\(name), automatic)".prefix(64)) }
}
