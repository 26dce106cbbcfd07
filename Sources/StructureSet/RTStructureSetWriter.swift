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
            dataset[tag] =
                source[tag].map { DataElement(tag: tag, vr: vr, value: $0.value) } ?? DataElement(tag: tag, vr: vr, value: .bytes(Data()))
        }
        if let charset = source[.specificCharacterSet] { dataset[.specificCharacterSet] = charset }
        // SOP Common.
        put(.sopClassUID, .UI, sopClassUID)
        put(.sopInstanceUID, .UI, sopInstanceUID)
        put(Tag.instanceCreationDate, .DA, day)
        put(Tag.instanceCreationTime, .TM, time)
        // Patient, General Study (type 2 attributes present even when empty).
        copy(.patientName, .PN)
        copy(.patientID, .LO)
        copy(Tag.patientBirthDate, .DA)
        copy(Tag.patientSex, .CS)
        put(.studyInstanceUID, .UI, volume.studyInstanceUID)
        copy(Tag.studyDate, .DA)
        copy(Tag.studyTime, .TM)
        copy(Tag.referringPhysicianName, .PN)
        copy(Tag.studyID, .SH)
        copy(Tag.accessionNumber, .SH)
        if source[.studyDescription] != nil { copy(Tag.studyDescription, .LO) }
        // RT Series.
        put(Tag.modality, .CS, "RTSTRUCT")
        put(.seriesInstanceUID, .UI, seriesInstanceUID)
        put(Tag.seriesNumber, .IS, String(seriesNumber))
        put(Tag.seriesDescription, .LO, algorithm.seriesDescription)
        dataset[.operatorsName] = DataElement(tag: Tag.operatorsName, vr: .PN, value: .bytes(Data()))
        // General Equipment.
        put(Tag.manufacturer, .LO, "Metis")
        put(Tag.manufacturerModelName, .LO, "Metis \(algorithm.name)")
        put(Tag.softwareVersions, .LO, algorithm.version)
        // Frame of Reference, at the top level.
        put(Tag.frameOfReferenceUID, .UI, volume.frameOfReferenceUID)
        copy(Tag.positionReferenceIndicator, .LO)
        // Structure Set.
        put(Tag.structureSetLabel, .SH, "METIS")
        put(Tag.structureSetDescription, .ST, "\(algorithm.notice). \(algorithm.name) \(algorithm.version).")
        put(Tag.structureSetDate, .DA, day)
        put(Tag.structureSetTime, .TM, time)
        let contourImages = volume.sources.map(Self.imageReference)
        let series = Dataset([
            DataElement.text(.seriesInstanceUID, .UI, volume.seriesInstanceUID),
            sequence(Tag.contourImageSequence, contourImages),
        ])
        let study = Dataset([
            DataElement.text(Tag.referencedSOPClassUID, .UI, studyComponentSOPClassUID),
            DataElement.text(Tag.referencedSOPInstanceUID, .UI, volume.studyInstanceUID),
            sequence(Tag.rtReferencedSeriesSequence, [series]),
        ])
        dataset[.referencedFrameOfReferenceSequence] = sequence(
            Tag.referencedFrameOfReferenceSequence,
            [
                Dataset([
                    DataElement.text(Tag.frameOfReferenceUID, .UI, volume.frameOfReferenceUID),
                    sequence(Tag.rtReferencedStudySequence, [study]),
                ])
            ])
        dataset[.structureSetROISequence] = sequence(
            Tag.structureSetROISequence,
            lesions.enumerated().map { number, lesion in
                Dataset([
                    DataElement.text(Tag.roiNumber, .IS, String(number + 1)),
                    DataElement.text(Tag.referencedFrameOfReferenceUID, .UI, volume.frameOfReferenceUID),
                    DataElement.text(Tag.roiName, .LO, lesion.name),
                    DataElement.text(Tag.roiGenerationAlgorithm, .CS, "AUTOMATIC"),
                    DataElement.text(Tag.roiGenerationDescription, .LO, algorithm.description),
                ])
            })
        // ROI Contour.
        dataset[.roiContourSequence] = sequence(
            Tag.roiContourSequence,
            lesions.enumerated().map { number, lesion in
                let contours = lesion.contours.enumerated().map { index, contour in
                    Dataset([
                        sequence(Tag.contourImageSequence, [imageReference(volume.sources[contour.slice])]),
                        DataElement.text(Tag.contourGeometricType, .CS, "CLOSED_PLANAR"),
                        DataElement.text(Tag.numberOfContourPoints, .IS, String(contour.points.count)),
                        DataElement.text(Tag.contourNumber, .IS, String(index + 1)),
                        DataElement.text(Tag.contourData, .DS, DecimalString.join(contour.points.flatMap { [$0.x, $0.y, $0.z] })),
                    ])
                }
                var item = Dataset([
                    DataElement.text(Tag.roiDisplayColor, .IS, "\(lesion.color.red)\\\(lesion.color.green)\\\(lesion.color.blue)"),
                    DataElement.text(Tag.referencedROINumber, .IS, String(number + 1)),
                ])
                if !contours.isEmpty { item[.contourSequence] = sequence(Tag.contourSequence, contours) }
                return item
            })
        // RT ROI Observations.
        dataset[.rtroiObservationsSequence] = sequence(
            Tag.rtroiObservationsSequence,
            lesions.indices.map { number in
                Dataset([
                    DataElement.text(Tag.observationNumber, .IS, String(number + 1)),
                    DataElement.text(Tag.referencedROINumber, .IS, String(number + 1)),
                    DataElement.text(Tag.rtroiInterpretedType, .CS, algorithm.interpretedType),
                    DataElement(tag: Tag.roiInterpreter, vr: .PN, value: .bytes(Data())),
                ])
            })
        return dataset
    }

    private static func imageReference(_ source: Volume.SliceSource) -> Dataset {
        var item = Dataset([
            DataElement.text(Tag.referencedSOPClassUID, .UI, source.sopClassUID),
            DataElement.text(Tag.referencedSOPInstanceUID, .UI, source.sopInstanceUID),
        ])
        if let frame = source.frameNumber { item[.referencedFrameNumber] = DataElement.text(Tag.referencedFrameNumber, .IS, String(frame)) }
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
