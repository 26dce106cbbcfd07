import DICOM
import Foundation
@testable import StructureSet
import TestSupport
import Testing

@testable import Imaging

@Suite("RT Structure Set writer")
struct RTStructureSetTests {
    /// The phantom's lesions written as an RTSTRUCT, with its source series.
    static func structureSet(_ phantom: BrainPhantom) throws -> (Dataset, Volume, [DICOMFile]) {
        let files = try phantom.instances().map { try DICOMReader.read($0) }
        let volume = try VolumeBuilder.build(files)
        let (labels, count) = ConnectedComponents.label(
            volume.voxels.map { $0 >= 1400 }, columns: volume.columns, rows: volume.rows, slices: volume.slices)
        let lesions = (1...Int32(count)).map { label in
            StructureSetLesion(
                name: "Lesion \(label)", color: StructureSetLesion.color(forLesion: Int(label)),
                contours: LesionContour.contours(label: label, labels: labels, geometry: volume.geometry))
        }
        let dataset = try RTStructureSetWriter.dataset(
            lesions: lesions, volume: volume, source: files[0].dataset, algorithm: GeneratingAlgorithm(name: "classical", version: "0.1.0"))
        return (dataset, volume, files)
    }

    @Test("references are complete: frame of reference → study → series → every image; each contour names its image")
    func references() throws {
        var phantom = VolumeBuilderTests.oblique
        phantom.rowSpacing = 1.5
        let (dataset, volume, files) = try Self.structureSet(phantom)
        let read = try DICOMReader.read(try DICOMWriter.write(dataset)).dataset
        #expect(read.string(.sopClassUID) == RTStructureSetWriter.sopClassUID)
        #expect(read.string(.studyInstanceUID) == phantom.study)
        #expect(read.string(.seriesInstanceUID) != phantom.series)
        #expect(read.string(.modality) == "RTSTRUCT")
        #expect(read.string(.frameOfReferenceUID) == volume.frameOfReferenceUID)
        #expect(read.personNames(.patientName)?.first?.description == files[0].dataset.personNames(.patientName)?.first?.description)
        let frame = try #require(read.items(.referencedFrameOfReferenceSequence)?.first)
        let study = try #require(frame.items(.rtReferencedStudySequence)?.first)
        #expect(study.string(.referencedSOPInstanceUID) == phantom.study)
        let series = try #require(study.items(.rtReferencedSeriesSequence)?.first)
        #expect(series.string(.seriesInstanceUID) == phantom.series)
        let images = try #require(series.items(.contourImageSequence))
        #expect(
            Set(images.compactMap { $0.string(.referencedSOPInstanceUID) }) == Set(files.compactMap { $0.dataset.string(.sopInstanceUID) }))
        let rois = try #require(read.items(.structureSetROISequence))
        #expect(rois.map { $0.string(.roiName) } == ["Lesion 1", "Lesion 2", "Lesion 3"])
        #expect(rois.allSatisfy { $0.string(.roiGenerationAlgorithm) == "AUTOMATIC" })
        let roiContours = try #require(read.items(.roiContourSequence))
        #expect(roiContours.count == 3)
        for roi in roiContours {
            for contour in try #require(roi.items(.contourSequence)) {
                #expect(contour.string(.contourGeometricType) == "CLOSED_PLANAR")
                let points = try #require(contour.numbers(.contourData))
                #expect(points.count == 3 * (contour.int(.numberOfContourPoints) ?? 0))
                #expect(points.count >= 9)
                let image = try #require(contour.items(.contourImageSequence)?.first?.string(.referencedSOPInstanceUID))
                let slice = try #require(volume.sources.firstIndex { $0.sopInstanceUID == image })
                // Every point lies in the plane of the image the contour references.
                for index in stride(from: 0, to: points.count, by: 3) {
                    let d = SIMD3(points[index], points[index + 1], points[index + 2]) - volume.geometry.slicePositions[slice]
                    #expect(abs(dot(d, volume.geometry.normal)) < 1e-3)
                }
            }
        }
        #expect(read.items(.rtroiObservationsSequence)?.count == 3)
    }

    @Test("DS values fit 16 characters")
    func decimalStrings() throws {
        let (dataset, _, _) = try Self.structureSet(BrainPhantom())
        let data = try DICOMWriter.write(dataset)
        let read = try DICOMReader.read(data).dataset
        for roi in read.items(.roiContourSequence) ?? [] {
            for contour in roi.items(.contourSequence) ?? [] {
                #expect(contour.strings(.contourData)?.allSatisfy { $0.count <= 16 } == true)
            }
        }
    }

    @Test("no lesion is refused rather than written as an empty structure set")
    func noLesion() throws {
        let phantom = BrainPhantom()
        let files = try phantom.instances().prefix(3).map { try DICOMReader.read($0) }
        var volume = try VolumeBuilder.build(Array(files))
        volume.frameOfReferenceUID = "2.25.1"
        #expect(throws: RTStructureSetWriter.WriteError.self) {
            _ = try RTStructureSetWriter.dataset(
                lesions: [], volume: volume, source: files[0].dataset, algorithm: .init(name: "classical", version: "0"))
        }
    }

    static var dciodvfy: String? {
        ["/usr/bin/dciodvfy", "/usr/local/bin/dciodvfy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("dciodvfy (dicom3tools) finds no error", .enabled(if: dciodvfy != nil))
    func validates() async throws {
        var phantom = VolumeBuilderTests.oblique
        phantom.sliceOffsets = phantom.sliceOffsets.reversed()
        let (dataset, _, _) = try Self.structureSet(phantom)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rtstruct-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DICOMWriter.write(dataset, to: url)
        let output = try await ToolProcess.run(Self.dciodvfy!, [url.path]).text
        let errors = output.split(separator: "\n").filter { $0.hasPrefix("Error") }
        #expect(errors.isEmpty, "\(output)")
    }
}

@Suite("DS formatting")
struct DecimalStringTests {
    @Test("four decimals at most, no trailing zeros, no negative zero, never over 16 characters")
    func format() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.00001, "0"), (1.5, "1.5"), (-123.45678, "-123.4568"), (0.05, "0.05"), (120, "120"),
            (-0.0004, "-0.0004"), (99999.99999, "100000"), (1e10 + 0.1234, "10000000000.1234"),
        ]
        for (value, expected) in cases {
            #expect(DecimalString.format(value) == expected, "\(value)")
            #expect(DecimalString.format(value).count <= 16)
        }
    }
}
