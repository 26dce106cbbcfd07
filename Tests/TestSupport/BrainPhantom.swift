public import DICOM
public import Foundation

/// A synthetic brain MR series with known truth: an ellipsoid head (scalp
/// 300), brain (600) and bright spherical lesions (1500), sampled on any
/// geometry — axial or oblique planes, non-square pixels, uneven slice
/// spacing, slices in any order, or one enhanced multi-frame instance.
public struct BrainPhantom: Sendable {
    public struct Lesion: Sendable {
        public var center: SIMD3<Double>
        public var radius: Double
        public init(center: SIMD3<Double>, radius: Double) {
            self.center = center
            self.radius = radius
        }
    }

    public var columns = 96
    public var rows = 96
    /// Direction of increasing column index, and of increasing row index.
    public var rowDirection = SIMD3<Double>(1, 0, 0)
    public var columnDirection = SIMD3<Double>(0, 1, 0)
    /// PixelSpacing: row spacing, column spacing (mm).
    public var rowSpacing = 2.0
    public var columnSpacing = 2.0
    /// Offsets of the slices along the normal from the first (mm), in acquisition order.
    public var sliceOffsets: [Double] = (0..<60).map { Double($0) * 2.5 }
    public var lesions: [Lesion] = [
        Lesion(center: SIMD3(20, -15, 70), radius: 10),
        Lesion(center: SIMD3(-35, 25, 90), radius: 6),
        Lesion(center: SIMD3(10, 40, 40), radius: 4),
    ]
    /// Each lesion's value (1500 each when nil): a lesion as bright as the brain is invisible in this series.
    public var lesionValues: [Double]?
    public var study = "2.25.70001"
    public var series = "2.25.70001.1"
    public var seriesDescription = "T1 MPRAGE gado"
    public var seriesNumber = 3
    /// FrameOfReferenceUID; nil: a new one per `instances()` call (series of one study sharing a frame set the same).
    public var frameOfReference: String?
    public var patientName = "Fantôme^Cérébral"
    /// StudyDate (DA).
    public var studyDate = "20260310"
    /// Where the head (and its lesions) lies relative to the scanner (patient mm): a patient positioned differently.
    public var headShift = SIMD3<Double>(0, 0, 0)
    /// Rescale applied when writing: stored = (value - intercept) / slope.
    public var rescaleSlope = 2.0
    public var rescaleIntercept = -100.0

    public init() {}

    public var normal: SIMD3<Double> {
        let a = rowDirection, b = columnDirection
        return SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    /// The first slice's corner, chosen so that the field of view is centred on (0, 0, 75).
    public var origin: SIMD3<Double> {
        let halfWidth = Double(columns - 1) * columnSpacing / 2, halfHeight = Double(rows - 1) * rowSpacing / 2
        let middle = (sliceOffsets.min()! + sliceOffsets.max()!) / 2
        return SIMD3(0, 0, 75) - halfWidth * rowDirection - halfHeight * columnDirection - middle * normal
    }

    public func position(column: Int, row: Int, offset: Double) -> SIMD3<Double> {
        origin + Double(column) * columnSpacing * rowDirection + Double(row) * rowSpacing * columnDirection + offset * normal
    }

    /// The image value at a patient position.
    public func value(at position: SIMD3<Double>) -> Double {
        let p = position - headShift
        if let index = lesions.firstIndex(where: { distance(p, $0.center) <= $0.radius }) { return lesionValue(index) }
        let head = pow(p.x / 85, 2) + pow(p.y / 100, 2) + pow((p.z - 75) / 80, 2)
        let brain = pow(p.x / 75, 2) + pow(p.y / 90, 2) + pow((p.z - 75) / 70, 2)
        if brain <= 1 { return 600 + 20 * sin(p.x / 7) * cos(p.y / 9) }
        if head <= 1 { return 300 }
        return 0
    }

    func lesionValue(_ index: Int) -> Double { lesionValues?[index] ?? 1500 }

    /// Which lesion (1-based) covers a position, if any.
    public func lesion(at position: SIMD3<Double>) -> Int? {
        let p = position - headShift
        return lesions.firstIndex { distance(p, $0.center) <= $0.radius }.map { $0 + 1 }
    }

    /// One single-frame MR image per slice, in acquisition order.
    public func instances() throws -> [Data] {
        let frame = frameOfReference ?? UID.make()
        return try sliceOffsets.enumerated().map { index, offset in
            var dataset = commonDataset(frameOfReference: frame)
            func text(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = DataElement.text(tag, vr, value) }
            text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
            text(.sopInstanceUID, .UI, "\(series).\(index + 1)")
            text(Tag.instanceNumber, .IS, String(index + 1))
            text(Tag.imagePositionPatient, .DS, Self.ds(position(column: 0, row: 0, offset: offset)))
            text(Tag.imageOrientationPatient, .DS, Self.ds(rowDirection) + "\\" + Self.ds(columnDirection))
            text(Tag.pixelSpacing, .DS, "\(rowSpacing)\\\(columnSpacing)")
            text(Tag.sliceThickness, .DS, "2.5")
            text(.rescaleSlope, .DS, String(rescaleSlope))
            text(.rescaleIntercept, .DS, String(rescaleIntercept))
            dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OW, value: .bytes(pixels(offset: offset)))
            return try DICOMWriter.write(dataset)
        }
    }

    /// One enhanced MR instance holding every slice as a frame, with per-frame functional groups.
    public func enhancedInstance() throws -> Data {
        var dataset = commonDataset(frameOfReference: UID.make())
        func text(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = DataElement.text(tag, vr, value) }
        text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4.1")
        text(.sopInstanceUID, .UI, "\(series).1")
        text(.numberOfFrames, .IS, String(sliceOffsets.count))
        func item(_ elements: [DataElement]) -> Dataset { Dataset(elements) }
        func sequence(_ tag: Tag, _ items: [Dataset]) -> DataElement { DataElement(tag: tag, vr: .SQ, value: .sequence(items)) }
        let shared = item([
            sequence(
                Tag.planeOrientationSequence,
                [item([DataElement.text(Tag.imageOrientationPatient, .DS, Self.ds(rowDirection) + "\\" + Self.ds(columnDirection))])]),
            sequence(
                Tag.pixelMeasuresSequence,
                [
                    item([
                        DataElement.text(Tag.pixelSpacing, .DS, "\(rowSpacing)\\\(columnSpacing)"),
                        DataElement.text(Tag.sliceThickness, .DS, "2.5"),
                    ])
                ]),
            sequence(
                Tag.pixelValueTransformationSequence,
                [
                    item([
                        DataElement.text(.rescaleIntercept, .DS, String(rescaleIntercept)),
                        DataElement.text(.rescaleSlope, .DS, String(rescaleSlope)),
                        DataElement.text(Tag.rescaleType, .LO, "US"),
                    ])
                ]),
        ])
        dataset[.sharedFunctionalGroupsSequence] = sequence(Tag.sharedFunctionalGroupsSequence, [shared])
        dataset[.perFrameFunctionalGroupsSequence] = sequence(
            Tag.perFrameFunctionalGroupsSequence,
            sliceOffsets.map { offset in
                item([
                    sequence(
                        Tag.planePositionSequence,
                        [item([DataElement.text(Tag.imagePositionPatient, .DS, Self.ds(position(column: 0, row: 0, offset: offset)))])])
                ])
            })
        var pixels = Data()
        for offset in sliceOffsets { pixels.append(self.pixels(offset: offset)) }
        dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OW, value: .bytes(pixels))
        return try DICOMWriter.write(dataset)
    }

    /// The truth: for each slice in acquisition order, the lesion number of each pixel (0 outside).
    public func truth(offset: Double) -> [Int] {
        var labels = [Int](repeating: 0, count: columns * rows)
        for row in 0..<rows {
            for column in 0..<columns {
                labels[row * columns + column] = lesion(at: position(column: column, row: row, offset: offset)) ?? 0
            }
        }
        return labels
    }

    private func commonDataset(frameOfReference: String) -> Dataset {
        var dataset = Dataset(characterSet: SpecificCharacterSet(terms: ["ISO_IR 192"]))
        func text(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = DataElement.text(tag, vr, value) }
        text(.specificCharacterSet, .CS, "ISO_IR 192")
        text(.studyInstanceUID, .UI, study)
        text(.seriesInstanceUID, .UI, series)
        text(.patientID, .LO, "PHANTOM-1")
        dataset[.patientName] = DataElement(tag: .patientName, vr: .PN, value: .bytes(Data(patientName.utf8)))
        text(Tag.patientBirthDate, .DA, "19650302")
        text(Tag.patientSex, .CS, "F")
        text(Tag.studyDate, .DA, studyDate)
        text(Tag.studyTime, .TM, "093000")
        text(Tag.accessionNumber, .SH, "ACC-PH1")
        text(Tag.studyID, .SH, "1")
        text(Tag.modality, .CS, "MR")
        text(Tag.seriesDescription, .LO, seriesDescription)
        text(Tag.seriesNumber, .IS, String(seriesNumber))
        text(Tag.frameOfReferenceUID, .UI, frameOfReference)
        text(Tag.positionReferenceIndicator, .LO, "")
        dataset[.samplesPerPixel] = Self.us(.samplesPerPixel, 1)
        text(.photometricInterpretation, .CS, "MONOCHROME2")
        dataset[.rows] = Self.us(.rows, UInt16(rows))
        dataset[.columns] = Self.us(.columns, UInt16(columns))
        dataset[.bitsAllocated] = Self.us(.bitsAllocated, 16)
        dataset[.bitsStored] = Self.us(.bitsStored, 16)
        dataset[.highBit] = Self.us(Tag.highBit, 15)
        dataset[.pixelRepresentation] = Self.us(.pixelRepresentation, 0)
        return dataset
    }

    /// Scalar arithmetic rather than SIMD: test builds are unoptimised, where SIMD is slow.
    private func pixels(offset: Double) -> Data {
        var bytes = [UInt8](repeating: 0, count: columns * rows * 2)
        let start = position(column: 0, row: 0, offset: offset)
        let (cx, cy, cz) = (rowDirection.x * columnSpacing, rowDirection.y * columnSpacing, rowDirection.z * columnSpacing)
        let (rx, ry, rz) = (columnDirection.x * rowSpacing, columnDirection.y * rowSpacing, columnDirection.z * rowSpacing)
        let spheres = lesions.indices.map {
            (lesions[$0].center.x, lesions[$0].center.y, lesions[$0].center.z, lesions[$0].radius * lesions[$0].radius, lesionValue($0))
        }
        var index = 0
        for row in 0..<rows {
            for column in 0..<columns {
                let x = start.x + Double(column) * cx + Double(row) * rx
                let y = start.y + Double(column) * cy + Double(row) * ry
                let z = start.z + Double(column) * cz + Double(row) * rz
                var value = 0.0
                if let sphere = spheres.first(where: {
                    (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) + (z - $0.2) * (z - $0.2) <= $0.3
                }) {
                    value = sphere.4
                } else if (x / 75) * (x / 75) + (y / 90) * (y / 90) + ((z - 75) / 70) * ((z - 75) / 70) <= 1 {
                    value = 600 + 20 * sin(x / 7) * cos(y / 9)
                } else if (x / 85) * (x / 85) + (y / 100) * (y / 100) + ((z - 75) / 80) * ((z - 75) / 80) <= 1 {
                    value = 300
                }
                let stored = UInt16(clamping: Int(((value - rescaleIntercept) / rescaleSlope).rounded()))
                bytes[index] = UInt8(stored & 0xFF)
                bytes[index + 1] = UInt8(stored >> 8)
                index += 2
            }
        }
        return Data(bytes)
    }

    private static func us(_ tag: Tag, _ value: UInt16) -> DataElement {
        DataElement(tag: tag, vr: .US, value: .bytes(Data([UInt8(value & 0xFF), UInt8(value >> 8)])))
    }

    private static func ds(_ v: SIMD3<Double>) -> String {
        [v.x, v.y, v.z].map { String(format: "%.6f", $0) }.joined(separator: "\\")
    }

    private func distance(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
        let d = a - b
        return (d * d).sum().squareRoot()
    }
}
