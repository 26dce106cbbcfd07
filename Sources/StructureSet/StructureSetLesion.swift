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
        let palette = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                       (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)]
        let entry = palette[(number - 1) % palette.count]
        return (entry.0, entry.1, entry.2)
    }
}

/// Who made the contours, written into the ROI generation fields.
public struct GeneratingAlgorithm: Sendable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}
