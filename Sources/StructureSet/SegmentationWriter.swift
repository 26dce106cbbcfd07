public import DICOM
public import Foundation
public import Imaging

/// Writes a binary DICOM Segmentation (PS3.3 A.51) of lesions found on a
/// volume: one segment per lesion, one frame per (segment, slice where it
/// appears), each frame placed with its source slice's position and derived
/// from that image. Patient and study copied from the source, a new series in
/// the same study, the source's frame of reference.
public enum SegmentationWriter {
    public static let sopClassUID = "1.2.840.10008.5.1.4.1.1.66.4"

    /// One lesion's mask: the volume's slices where it appears, each a
    /// row-major Bool plane of the volume's size.
    public struct Segment: Sendable {
        public var label: String
        public var planes: [(slice: Int, pixels: [Bool])]

        public init(label: String, planes: [(slice: Int, pixels: [Bool])]) {
            self.label = label
            self.planes = planes
        }
    }

    public static func dataset(
        segments: [Segment], volume: Volume, source: Dataset, algorithm: GeneratingAlgorithm, seriesNumber: Int = 9002,
        date: Date = Date(), sopInstanceUID: String = UID.make(), seriesInstanceUID: String = UID.make()
    ) throws(RTStructureSetWriter.WriteError) -> Dataset {
        guard segments.contains(where: { !$0.planes.isEmpty }) else {
            throw RTStructureSetWriter.WriteError(description: "no lesion: a segmentation needs at least one segment with a frame")
        }
        guard !volume.frameOfReferenceUID.isEmpty else {
            throw RTStructureSetWriter.WriteError(description: "the source series has no FrameOfReferenceUID")
        }
        let geometry = volume.geometry
        let (day, time) = RTStructureSetWriter.dateTime(date)
        var dataset = Dataset(characterSet: source.characterSet)
        func put(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = DataElement.text(tag, vr, value) }
        func copy(_ tag: Tag, _ vr: VR) {
            dataset[tag] = source[tag].map { DataElement(tag: tag, vr: vr, value: $0.value) } ?? DataElement(tag: tag, vr: vr, value: .bytes(Data()))
        }
        if let charset = source[.specificCharacterSet] { dataset[.specificCharacterSet] = charset }
        put(.sopClassUID, .UI, sopClassUID)
        put(.sopInstanceUID, .UI, sopInstanceUID)
        put(Tag(0x0008, 0x0008), .CS, "DERIVED\\PRIMARY")
        put(Tag(0x0008, 0x0012), .DA, day)
        put(Tag(0x0008, 0x0013), .TM, time)
        put(Tag(0x0008, 0x0023), .DA, day)
        put(Tag(0x0008, 0x0033), .TM, time)
        copy(.patientName, .PN)
        copy(.patientID, .LO)
        copy(Tag(0x0010, 0x0030), .DA)
        copy(Tag(0x0010, 0x0040), .CS)
        put(.studyInstanceUID, .UI, volume.studyInstanceUID)
        copy(Tag(0x0008, 0x0020), .DA)
        copy(Tag(0x0008, 0x0030), .TM)
        copy(Tag(0x0008, 0x0090), .PN)
        copy(Tag(0x0020, 0x0010), .SH)
        copy(Tag(0x0008, 0x0050), .SH)
        put(Tag(0x0008, 0x0060), .CS, "SEG")
        put(.seriesInstanceUID, .UI, seriesInstanceUID)
        put(Tag(0x0020, 0x0011), .IS, String(seriesNumber))
        put(Tag(0x0008, 0x103E), .LO, algorithm.seriesDescription)
        put(Tag(0x0020, 0x0013), .IS, "1")
        put(Tag(0x0020, 0x0052), .UI, volume.frameOfReferenceUID)
        copy(Tag(0x0020, 0x1040), .LO)
        // Enhanced General Equipment (type 1).
        put(Tag(0x0008, 0x0070), .LO, "Metis")
        put(Tag(0x0008, 0x1090), .LO, "Metis \(algorithm.name)")
        put(Tag(0x0018, 0x1000), .LO, "1")
        put(Tag(0x0018, 0x1020), .LO, algorithm.version)
        // Segmentation Image.
        put(Tag(0x0070, 0x0080), .CS, "LESIONS")
        put(Tag(0x0070, 0x0081), .LO, String(algorithm.notice.prefix(64)))
        dataset[Tag(0x0070, 0x0084)] = DataElement(tag: Tag(0x0070, 0x0084), vr: .PN, value: .bytes(Data()))
        put(Tag(0x0062, 0x0001), .CS, "BINARY")
        put(Tag(0x0028, 0x2110), .CS, "00")
        dataset[Tag(0x0062, 0x0002)] = sequence(Tag(0x0062, 0x0002), segments.enumerated().map { number, segment in
            Dataset([
                us(Tag(0x0062, 0x0004), UInt16(number + 1)),
                DataElement.text(Tag(0x0062, 0x0005), .LO, segment.label),
                DataElement.text(Tag(0x0062, 0x0008), .CS, "AUTOMATIC"),
                DataElement.text(Tag(0x0062, 0x0009), .LO, algorithm.description),
                sequence(Tag(0x0062, 0x0003), [code("49755003", "SCT", "Morphologically Abnormal Structure")]),
                sequence(Tag(0x0062, 0x000F), [code("14799000", "SCT", "Neoplasm, metastatic")]),
            ])
        })
        // Image Pixel: 1-bit frames.
        dataset[.samplesPerPixel] = us(.samplesPerPixel, 1)
        put(.photometricInterpretation, .CS, "MONOCHROME2")
        dataset[.rows] = us(.rows, UInt16(geometry.rows))
        dataset[.columns] = us(.columns, UInt16(geometry.columns))
        dataset[.bitsAllocated] = us(.bitsAllocated, 1)
        dataset[.bitsStored] = us(.bitsStored, 1)
        dataset[Tag(0x0028, 0x0102)] = us(Tag(0x0028, 0x0102), 0)
        dataset[.pixelRepresentation] = us(.pixelRepresentation, 0)
        // Dimensions: segment number, then position.
        let organization = UID.make()
        dataset[Tag(0x0020, 0x9221)] = sequence(Tag(0x0020, 0x9221), [Dataset([DataElement.text(Tag(0x0020, 0x9164), .UI, organization)])])
        dataset[Tag(0x0020, 0x9222)] = sequence(Tag(0x0020, 0x9222), [
            Dataset([DataElement.text(Tag(0x0020, 0x9164), .UI, organization), at(Tag(0x0020, 0x9165), Tag(0x0062, 0x000B)),
                     at(Tag(0x0020, 0x9167), Tag(0x0062, 0x000A))]),
            Dataset([DataElement.text(Tag(0x0020, 0x9164), .UI, organization), at(Tag(0x0020, 0x9165), Tag(0x0020, 0x0032)),
                     at(Tag(0x0020, 0x9167), Tag(0x0020, 0x9113))]),
        ])
        // Shared and per-frame functional groups.
        let orientation = [geometry.rowDirection, geometry.columnDirection].flatMap { [$0.x, $0.y, $0.z] }
        let thickness = geometry.sliceThicknesses.reduce(0, +) / Double(geometry.slices)
        dataset[Tag(0x5200, 0x9229)] = sequence(Tag(0x5200, 0x9229), [Dataset([
            sequence(Tag(0x0020, 0x9116), [Dataset([DataElement.text(Tag(0x0020, 0x0037), .DS, DecimalString.join(orientation))])]),
            sequence(Tag(0x0028, 0x9110), [Dataset([
                DataElement.text(Tag(0x0018, 0x0050), .DS, DecimalString.format(thickness)),
                DataElement.text(Tag(0x0028, 0x0030), .DS, DecimalString.join([geometry.rowSpacing, geometry.columnSpacing])),
            ])]),
        ])])
        var frames = [Dataset]()
        var bits = [Bool]()
        for (number, segment) in segments.enumerated() {
            for plane in segment.planes.sorted(by: { $0.slice < $1.slice }) {
                let position = geometry.slicePositions[plane.slice]
                let source = volume.sources[plane.slice]
                var reference = Dataset([
                    DataElement.text(Tag(0x0008, 0x1150), .UI, source.sopClassUID),
                    DataElement.text(Tag(0x0008, 0x1155), .UI, source.sopInstanceUID),
                    sequence(Tag(0x0040, 0xA170), [code("121322", "DCM", "Source image for image processing operation")]),
                ])
                if let frame = source.frameNumber { reference[Tag(0x0008, 0x1160)] = DataElement.text(Tag(0x0008, 0x1160), .IS, String(frame)) }
                frames.append(Dataset([
                    sequence(Tag(0x0008, 0x9124), [Dataset([
                        sequence(Tag(0x0008, 0x2112), [reference]),
                        sequence(Tag(0x0008, 0x9215), [code("113076", "DCM", "Segmentation")]),
                    ])]),
                    sequence(Tag(0x0020, 0x9111), [Dataset([ul(Tag(0x0020, 0x9157), [UInt32(number + 1), UInt32(plane.slice + 1)])])]),
                    sequence(Tag(0x0020, 0x9113), [Dataset([DataElement.text(Tag(0x0020, 0x0032), .DS, DecimalString.join([position.x, position.y, position.z]))])]),
                    sequence(Tag(0x0062, 0x000A), [Dataset([us(Tag(0x0062, 0x000B), UInt16(number + 1))])]),
                ]))
                bits += plane.pixels
            }
        }
        dataset[Tag(0x5200, 0x9230)] = sequence(Tag(0x5200, 0x9230), frames)
        put(.numberOfFrames, .IS, String(frames.count))
        // Common Instance Reference: the source series.
        dataset[Tag(0x0008, 0x1115)] = sequence(Tag(0x0008, 0x1115), [Dataset([
            DataElement.text(.seriesInstanceUID, .UI, volume.seriesInstanceUID),
            sequence(Tag(0x0008, 0x114A), uniqueSources(volume.sources).map {
                Dataset([DataElement.text(Tag(0x0008, 0x1150), .UI, $0.sopClassUID), DataElement.text(Tag(0x0008, 0x1155), .UI, $0.sopInstanceUID)])
            }),
        ])])
        // Frames are one continuous bit stream, least significant bit first, padded to an even length.
        var packed = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (index, bit) in bits.enumerated() where bit { packed[index / 8] |= 1 << UInt8(index % 8) }
        if packed.count % 2 == 1 { packed.append(0) }
        dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OB, value: .bytes(Data(packed)))
        return dataset
    }

    private static func uniqueSources(_ sources: [Volume.SliceSource]) -> [Volume.SliceSource] {
        var seen = Set<String>()
        return sources.filter { seen.insert($0.sopInstanceUID).inserted }
    }

    private static func code(_ value: String, _ scheme: String, _ meaning: String) -> Dataset {
        Dataset([
            DataElement.text(Tag(0x0008, 0x0100), .SH, value), DataElement.text(Tag(0x0008, 0x0102), .SH, scheme),
            DataElement.text(Tag(0x0008, 0x0104), .LO, meaning),
        ])
    }

    private static func sequence(_ tag: Tag, _ items: [Dataset]) -> DataElement { DataElement(tag: tag, vr: .SQ, value: .sequence(items)) }

    private static func us(_ tag: Tag, _ value: UInt16) -> DataElement {
        DataElement(tag: tag, vr: .US, value: .bytes(Data([UInt8(value & 0xFF), UInt8(value >> 8)])))
    }

    private static func ul(_ tag: Tag, _ values: [UInt32]) -> DataElement {
        var data = Data()
        for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        return DataElement(tag: tag, vr: .UL, value: .bytes(data))
    }

    private static func at(_ tag: Tag, _ value: Tag) -> DataElement {
        var data = Data()
        for half in [value.group, value.element] { withUnsafeBytes(of: half.littleEndian) { data.append(contentsOf: $0) } }
        return DataElement(tag: tag, vr: .AT, value: .bytes(data))
    }
}
