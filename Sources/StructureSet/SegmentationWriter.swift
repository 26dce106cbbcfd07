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
            dataset[tag] =
                source[tag].map { DataElement(tag: tag, vr: vr, value: $0.value) } ?? DataElement(tag: tag, vr: vr, value: .bytes(Data()))
        }
        if let charset = source[.specificCharacterSet] { dataset[.specificCharacterSet] = charset }
        put(.sopClassUID, .UI, sopClassUID)
        put(.sopInstanceUID, .UI, sopInstanceUID)
        put(Tag.imageType, .CS, "DERIVED\\PRIMARY")
        put(Tag.instanceCreationDate, .DA, day)
        put(Tag.instanceCreationTime, .TM, time)
        put(Tag.contentDate, .DA, day)
        put(Tag.contentTime, .TM, time)
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
        put(Tag.modality, .CS, "SEG")
        put(.seriesInstanceUID, .UI, seriesInstanceUID)
        put(Tag.seriesNumber, .IS, String(seriesNumber))
        put(Tag.seriesDescription, .LO, algorithm.seriesDescription)
        put(Tag.instanceNumber, .IS, "1")
        put(Tag.frameOfReferenceUID, .UI, volume.frameOfReferenceUID)
        copy(Tag.positionReferenceIndicator, .LO)
        // Enhanced General Equipment (type 1).
        put(Tag.manufacturer, .LO, "Metis")
        put(Tag.manufacturerModelName, .LO, "Metis \(algorithm.name)")
        put(Tag.deviceSerialNumber, .LO, "1")
        put(Tag.softwareVersions, .LO, algorithm.version)
        // Segmentation Image.
        put(Tag.contentLabel, .CS, "LESIONS")
        put(Tag.contentDescription, .LO, String(algorithm.notice.prefix(64)))
        dataset[.contentCreatorName] = DataElement(tag: Tag.contentCreatorName, vr: .PN, value: .bytes(Data()))
        put(Tag.segmentationType, .CS, "BINARY")
        put(Tag.lossyImageCompression, .CS, "00")
        dataset[.segmentSequence] = sequence(
            Tag.segmentSequence,
            segments.enumerated().map { number, segment in
                Dataset([
                    us(Tag.segmentNumber, UInt16(number + 1)),
                    DataElement.text(Tag.segmentLabel, .LO, segment.label),
                    DataElement.text(Tag.segmentAlgorithmType, .CS, "AUTOMATIC"),
                    DataElement.text(Tag.segmentAlgorithmName, .LO, algorithm.description),
                    sequence(Tag.segmentedPropertyCategoryCodeSequence, [code("49755003", "SCT", "Morphologically Abnormal Structure")]),
                    sequence(Tag.segmentedPropertyTypeCodeSequence, [code("14799000", "SCT", "Neoplasm, metastatic")]),
                ])
            })
        // Image Pixel: 1-bit frames.
        dataset[.samplesPerPixel] = us(.samplesPerPixel, 1)
        put(.photometricInterpretation, .CS, "MONOCHROME2")
        dataset[.rows] = us(.rows, UInt16(geometry.rows))
        dataset[.columns] = us(.columns, UInt16(geometry.columns))
        dataset[.bitsAllocated] = us(.bitsAllocated, 1)
        dataset[.bitsStored] = us(.bitsStored, 1)
        dataset[.highBit] = us(Tag.highBit, 0)
        dataset[.pixelRepresentation] = us(.pixelRepresentation, 0)
        // Dimensions: segment number, then position.
        let organization = UID.make()
        dataset[.dimensionOrganizationSequence] = sequence(
            Tag.dimensionOrganizationSequence, [Dataset([DataElement.text(Tag.dimensionOrganizationUID, .UI, organization)])])
        dataset[.dimensionIndexSequence] = sequence(
            Tag.dimensionIndexSequence,
            [
                Dataset([
                    DataElement.text(Tag.dimensionOrganizationUID, .UI, organization),
                    at(Tag.dimensionIndexPointer, Tag.referencedSegmentNumber),
                    at(Tag.functionalGroupPointer, Tag.segmentIdentificationSequence),
                ]),
                Dataset([
                    DataElement.text(Tag.dimensionOrganizationUID, .UI, organization),
                    at(Tag.dimensionIndexPointer, Tag.imagePositionPatient),
                    at(Tag.functionalGroupPointer, Tag.planePositionSequence),
                ]),
            ])
        // Shared and per-frame functional groups.
        let orientation = [geometry.rowDirection, geometry.columnDirection].flatMap { [$0.x, $0.y, $0.z] }
        let thickness = geometry.sliceThicknesses.reduce(0, +) / Double(geometry.slices)
        dataset[.sharedFunctionalGroupsSequence] = sequence(
            Tag.sharedFunctionalGroupsSequence,
            [
                Dataset([
                    sequence(
                        Tag.planeOrientationSequence,
                        [Dataset([DataElement.text(Tag.imageOrientationPatient, .DS, DecimalString.join(orientation))])]),
                    sequence(
                        Tag.pixelMeasuresSequence,
                        [
                            Dataset([
                                DataElement.text(Tag.sliceThickness, .DS, DecimalString.format(thickness)),
                                DataElement.text(Tag.pixelSpacing, .DS, DecimalString.join([geometry.rowSpacing, geometry.columnSpacing])),
                            ])
                        ]),
                ])
            ])
        var frames = [Dataset]()
        var bits = [Bool]()
        for (number, segment) in segments.enumerated() {
            for plane in segment.planes.sorted(by: { $0.slice < $1.slice }) {
                let position = geometry.slicePositions[plane.slice]
                let source = volume.sources[plane.slice]
                var reference = Dataset([
                    DataElement.text(Tag.referencedSOPClassUID, .UI, source.sopClassUID),
                    DataElement.text(Tag.referencedSOPInstanceUID, .UI, source.sopInstanceUID),
                    sequence(Tag.purposeOfReferenceCodeSequence, [code("121322", "DCM", "Source image for image processing operation")]),
                ])
                if let frame = source.frameNumber {
                    reference[.referencedFrameNumber] = DataElement.text(Tag.referencedFrameNumber, .IS, String(frame))
                }
                frames.append(
                    Dataset([
                        sequence(
                            Tag.derivationImageSequence,
                            [
                                Dataset([
                                    sequence(Tag.sourceImageSequence, [reference]),
                                    sequence(Tag.derivationCodeSequence, [code("113076", "DCM", "Segmentation")]),
                                ])
                            ]),
                        sequence(
                            Tag.frameContentSequence,
                            [Dataset([ul(Tag.dimensionIndexValues, [UInt32(number + 1), UInt32(plane.slice + 1)])])]),
                        sequence(
                            Tag.planePositionSequence,
                            [
                                Dataset([
                                    DataElement.text(
                                        Tag.imagePositionPatient, .DS, DecimalString.join([position.x, position.y, position.z]))
                                ])
                            ]),
                        sequence(Tag.segmentIdentificationSequence, [Dataset([us(Tag.referencedSegmentNumber, UInt16(number + 1))])]),
                    ]))
                bits += plane.pixels
            }
        }
        dataset[.perFrameFunctionalGroupsSequence] = sequence(Tag.perFrameFunctionalGroupsSequence, frames)
        put(.numberOfFrames, .IS, String(frames.count))
        // Common Instance Reference: the source series.
        dataset[.referencedSeriesSequence] = sequence(
            Tag.referencedSeriesSequence,
            [
                Dataset([
                    DataElement.text(.seriesInstanceUID, .UI, volume.seriesInstanceUID),
                    sequence(
                        Tag.referencedInstanceSequence,
                        uniqueSources(volume.sources).map {
                            Dataset([
                                DataElement.text(Tag.referencedSOPClassUID, .UI, $0.sopClassUID),
                                DataElement.text(Tag.referencedSOPInstanceUID, .UI, $0.sopInstanceUID),
                            ])
                        }),
                ])
            ])
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
            DataElement.text(Tag.codeValue, .SH, value), DataElement.text(Tag.codingSchemeDesignator, .SH, scheme),
            DataElement.text(Tag.codeMeaning, .LO, meaning),
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
