public import Imaging

/// A lesion Metis found: its number and ROI name, display colour and
/// measurements. The one shape a lesion has from the pipeline through the
/// worker's answer, the segmentation report (HTTP, job API, `metis segment
/// --json`) and the follow-up record; its contours stay in the encoded output.
public struct Lesion: Sendable, Equatable {
    /// 1, 2, … in the order of the output's ROIs or segments.
    public var number: Int
    /// The ROI or segment label ("Lesion 1").
    public var name: String
    /// ROIDisplayColor, 0...255 each.
    public var color: Color
    public var measurement: LesionMeasurement

    public struct Color: Sendable, Equatable {
        public var red: Int
        public var green: Int
        public var blue: Int

        public init(red: Int, green: Int, blue: Int) {
            self.red = red
            self.green = green
            self.blue = blue
        }
    }

    public init(number: Int, name: String, color: Color, measurement: LesionMeasurement) {
        self.number = number
        self.name = name
        self.color = color
        self.measurement = measurement
    }
}

extension Lesion: Codable {
    /// The report's keys (docs/api.md): millimetres and cubic millimetres, slices 0-based in volume order.
    private enum CodingKeys: String, CodingKey {
        case number, name, color, volumeMm3, voxelCount, longestDiameterMm, longestAxialDiameterMm, perpendicularDiameterMm
        case axialDiameterSlice, centroidMm, firstSlice, lastSlice, meanIntensity
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let m = measurement
        try container.encode(number, forKey: .number)
        try container.encode(name, forKey: .name)
        try container.encode([color.red, color.green, color.blue], forKey: .color)
        try container.encode(m.volume, forKey: .volumeMm3)
        try container.encode(m.voxelCount, forKey: .voxelCount)
        try container.encode(m.longestDiameter, forKey: .longestDiameterMm)
        try container.encode(m.longestAxialDiameter, forKey: .longestAxialDiameterMm)
        try container.encode(m.perpendicularDiameter, forKey: .perpendicularDiameterMm)
        try container.encode(m.axialDiameterSlice, forKey: .axialDiameterSlice)
        try container.encode([m.centroid.x, m.centroid.y, m.centroid.z], forKey: .centroidMm)
        try container.encode(m.firstSlice, forKey: .firstSlice)
        try container.encode(m.lastSlice, forKey: .lastSlice)
        try container.encode(m.meanIntensity, forKey: .meanIntensity)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        number = try container.decode(Int.self, forKey: .number)
        name = try container.decode(String.self, forKey: .name)
        let rgb = try container.decode([Int].self, forKey: .color)
        guard rgb.count == 3 else {
            throw DecodingError.dataCorruptedError(forKey: .color, in: container, debugDescription: "a colour is [red, green, blue]")
        }
        color = Color(red: rgb[0], green: rgb[1], blue: rgb[2])
        let centroid = try container.decode([Double].self, forKey: .centroidMm)
        guard centroid.count == 3 else {
            throw DecodingError.dataCorruptedError(forKey: .centroidMm, in: container, debugDescription: "a centroid is [x, y, z] mm")
        }
        measurement = LesionMeasurement(
            volume: try container.decode(Double.self, forKey: .volumeMm3),
            voxelCount: try container.decodeIfPresent(Int.self, forKey: .voxelCount) ?? 0,
            longestDiameter: try container.decode(Double.self, forKey: .longestDiameterMm),
            longestAxialDiameter: try container.decode(Double.self, forKey: .longestAxialDiameterMm),
            perpendicularDiameter: try container.decode(Double.self, forKey: .perpendicularDiameterMm),
            axialDiameterSlice: try container.decodeIfPresent(Int.self, forKey: .axialDiameterSlice) ?? 0,
            centroid: SIMD3(centroid[0], centroid[1], centroid[2]),
            firstSlice: try container.decode(Int.self, forKey: .firstSlice),
            lastSlice: try container.decode(Int.self, forKey: .lastSlice),
            meanIntensity: try container.decode(Double.self, forKey: .meanIntensity))
    }
}
