public import DICOM
public import Foundation
public import Imaging

/// Writes an RT Structure Set (PS3.3 A.19) for lesions found on a volume:
/// one ROI per lesion with CLOSED_PLANAR contours, every contour and the
/// referenced series listing the source images by SOP Instance UID; patient
/// and study modules copied from the source, a new series in the same study,
/// the source's Frame of Reference. Made to pass dciodvfy without errors.
public enum RTStructureSetWriter {
    public static let sopClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    /// Study Component Management SOP Class, the class RTReferencedStudySequence names (PS3.3 C.8.8.5).
    static let studyComponentSOPClassUID = "1.2.840.10008.3.1.2.3.1"

    /// Refusals: no lesion to write, or no source to copy the patient from.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The structure set's data set. `source` is one image of the series
    /// (its patient, study and character set are copied).
    public static func dataset(
        lesions: [StructureSetLesion], volume: Volume, source: Dataset, algorithm: GeneratingAlgorithm,
        seriesNumber: Int = 9001, date: Date = Date(), sopInstanceUID: String = UID.make(), seriesInstanceUID: String = UID.make()
    ) throws(WriteError) -> Dataset {
        guard !lesions.isEmpty else {
            throw WriteError(description: "no lesion: an RT Structure Set needs at least one ROI with contours")
        }
        guard !volume.frameOfReferenceUID.isEmpty else {
            throw WriteError(description: "the source series has no FrameOfReferenceUID; contours cannot be placed")
        }
        let (day, time) = Self.dateTime(date)
        var dataset = Dataset(characterSet: source.characterSet)
        func put(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = DataElement.text(tag, vr, value) }
        func copy(_ tag: Tag, _ vr: VR) {
            dataset[tag] = source[tag].map { DataElement(tag: tag, vr: vr, value: $0.value) } ?? DataElement(tag: tag, vr: vr, value: .bytes(Data()))
        }
        if let charset = source[.specificCharacterSet] { dataset[.specificCharacterSet] = charset }
        // SOP Common.
        put(.sopClassUID, .UI, sopClassUID)
        put(.sopInstanceUID, .UI, sopInstanceUID)
        put(Tag(0x0008, 0x0012), .DA, day)
        put(Tag(0x0008, 0x0013), .TM, time)
        // Patient, General Study (type 2 attributes present even when empty).
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
        if source[Tag(0x0008, 0x1030)] != nil { copy(Tag(0x0008, 0x1030), .LO) }
        // RT Series.
        put(Tag(0x0008, 0x0060), .CS, "RTSTRUCT")
        put(.seriesInstanceUID, .UI, seriesInstanceUID)
        put(Tag(0x0020, 0x0011), .IS, String(seriesNumber))
        put(Tag(0x0008, 0x103E), .LO, algorithm.seriesDescription)
        dataset[Tag(0x0008, 0x1070)] = DataElement(tag: Tag(0x0008, 0x1070), vr: .PN, value: .bytes(Data()))
        // General Equipment.
        put(Tag(0x0008, 0x0070), .LO, "Metis")
        put(Tag(0x0008, 0x1090), .LO, "Metis \(algorithm.name)")
        put(Tag(0x0018, 0x1020), .LO, algorithm.version)
        // Frame of Reference, at the top level.
        put(Tag(0x0020, 0x0052), .UI, volume.frameOfReferenceUID)
        copy(Tag(0x0020, 0x1040), .LO)
        // Structure Set.
        put(Tag(0x3006, 0x0002), .SH, "METIS")
        put(Tag(0x3006, 0x0006), .ST, "\(algorithm.notice). \(algorithm.name) \(algorithm.version).")
        put(Tag(0x3006, 0x0008), .DA, day)
        put(Tag(0x3006, 0x0009), .TM, time)
        let contourImages = volume.sources.map(Self.imageReference)
        let series = Dataset([
            DataElement.text(.seriesInstanceUID, .UI, volume.seriesInstanceUID),
            sequence(Tag(0x3006, 0x0016), contourImages),
        ])
        let study = Dataset([
            DataElement.text(Tag(0x0008, 0x1150), .UI, studyComponentSOPClassUID),
            DataElement.text(Tag(0x0008, 0x1155), .UI, volume.studyInstanceUID),
            sequence(Tag(0x3006, 0x0014), [series]),
        ])
        dataset[Tag(0x3006, 0x0010)] = sequence(Tag(0x3006, 0x0010), [Dataset([
            DataElement.text(Tag(0x0020, 0x0052), .UI, volume.frameOfReferenceUID),
            sequence(Tag(0x3006, 0x0012), [study]),
        ])])
        dataset[Tag(0x3006, 0x0020)] = sequence(Tag(0x3006, 0x0020), lesions.enumerated().map { number, lesion in
            Dataset([
                DataElement.text(Tag(0x3006, 0x0022), .IS, String(number + 1)),
                DataElement.text(Tag(0x3006, 0x0024), .UI, volume.frameOfReferenceUID),
                DataElement.text(Tag(0x3006, 0x0026), .LO, lesion.name),
                DataElement.text(Tag(0x3006, 0x0036), .CS, "AUTOMATIC"),
                DataElement.text(Tag(0x3006, 0x0038), .LO, algorithm.description),
            ])
        })
        // ROI Contour.
        dataset[Tag(0x3006, 0x0039)] = sequence(Tag(0x3006, 0x0039), lesions.enumerated().map { number, lesion in
            let contours = lesion.contours.enumerated().map { index, contour in
                Dataset([
                    sequence(Tag(0x3006, 0x0016), [imageReference(volume.sources[contour.slice])]),
                    DataElement.text(Tag(0x3006, 0x0042), .CS, "CLOSED_PLANAR"),
                    DataElement.text(Tag(0x3006, 0x0046), .IS, String(contour.points.count)),
                    DataElement.text(Tag(0x3006, 0x0048), .IS, String(index + 1)),
                    DataElement.text(Tag(0x3006, 0x0050), .DS, DecimalString.join(contour.points.flatMap { [$0.x, $0.y, $0.z] })),
                ])
            }
            var item = Dataset([
                DataElement.text(Tag(0x3006, 0x002A), .IS, "\(lesion.color.red)\\\(lesion.color.green)\\\(lesion.color.blue)"),
                DataElement.text(Tag(0x3006, 0x0084), .IS, String(number + 1)),
            ])
            if !contours.isEmpty { item[Tag(0x3006, 0x0040)] = sequence(Tag(0x3006, 0x0040), contours) }
            return item
        })
        // RT ROI Observations.
        dataset[Tag(0x3006, 0x0080)] = sequence(Tag(0x3006, 0x0080), lesions.indices.map { number in
            Dataset([
                DataElement.text(Tag(0x3006, 0x0082), .IS, String(number + 1)),
                DataElement.text(Tag(0x3006, 0x0084), .IS, String(number + 1)),
                DataElement.text(Tag(0x3006, 0x00A4), .CS, algorithm.interpretedType),
                DataElement(tag: Tag(0x3006, 0x00A6), vr: .PN, value: .bytes(Data())),
            ])
        })
        return dataset
    }

    private static func imageReference(_ source: Volume.SliceSource) -> Dataset {
        var item = Dataset([
            DataElement.text(Tag(0x0008, 0x1150), .UI, source.sopClassUID),
            DataElement.text(Tag(0x0008, 0x1155), .UI, source.sopInstanceUID),
        ])
        if let frame = source.frameNumber { item[Tag(0x0008, 0x1160)] = DataElement.text(Tag(0x0008, 0x1160), .IS, String(frame)) }
        return item
    }

    private static func sequence(_ tag: Tag, _ items: [Dataset]) -> DataElement {
        DataElement(tag: tag, vr: .SQ, value: .sequence(items))
    }

    static func dateTime(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return (String(format: "%04d%02d%02d", c.year!, c.month!, c.day!), String(format: "%02d%02d%02d", c.hour!, c.minute!, c.second!))
    }
}
