import DICOM
import Foundation
import StructureSet
import TestSupport
import Testing

@testable import Imaging

@Suite("DICOM SEG writer")
struct SegmentationWriterTests {
    static func segmentation(_ phantom: BrainPhantom) throws -> (Dataset, Volume, [Int32]) {
        let files = try phantom.instances().map { try DICOMReader.read($0) }
        let volume = try VolumeBuilder.build(files)
        let (labels, count) = ConnectedComponents.label(
            volume.voxels.map { $0 >= 1400 }, columns: volume.columns, rows: volume.rows, slices: volume.slices)
        let plane = volume.columns * volume.rows
        let segments = (1...Int32(count)).map { label in
            SegmentationWriter.Segment(
                label: "Lesion \(label)",
                planes: (0..<volume.slices).compactMap { slice in
                    let pixels = (0..<plane).map { labels[slice * plane + $0] == label }
                    return pixels.contains(true) ? (slice, pixels) : nil
                })
        }
        let dataset = try SegmentationWriter.dataset(
            segments: segments, volume: volume, source: files[0].dataset, algorithm: GeneratingAlgorithm(name: "classical", version: "1.0"))
        return (dataset, volume, labels)
    }

    @Test("one frame per segment and slice, bits packed in order, each frame placed and derived from its source image")
    func frames() throws {
        let (dataset, volume, labels) = try Self.segmentation(VolumeBuilderTests.oblique)
        let read = try DICOMReader.read(try DICOMWriter.write(dataset)).dataset
        #expect(read.string(.sopClassUID) == SegmentationWriter.sopClassUID)
        #expect(read.items(.segmentSequence)?.count == 3)
        let frames = try #require(read.items(.perFrameFunctionalGroupsSequence))
        #expect(read.int(.numberOfFrames) == frames.count)
        let bits = [UInt8](read[.pixelData]!.bytes)
        let plane = volume.columns * volume.rows
        for (index, frame) in frames.enumerated() {
            let segment = Int32(try #require(frame.items(.segmentIdentificationSequence)?.first?.int(.referencedSegmentNumber)))
            let source = try #require(
                frame.items(.derivationImageSequence)?.first?.items(.sourceImageSequence)?.first?.string(.referencedSOPInstanceUID))
            let slice = try #require(volume.sources.firstIndex { $0.sopInstanceUID == source })
            let position = try #require(frame.items(.planePositionSequence)?.first?.numbers(.imagePositionPatient))
            #expect(simd_distance(SIMD3(position[0], position[1], position[2]), volume.geometry.slicePositions[slice]) < 1e-3)
            for pixel in stride(from: 0, to: plane, by: 7) {
                let bit = index * plane + pixel
                let set = bits[bit / 8] & (1 << UInt8(bit % 8)) != 0
                #expect(set == (labels[slice * plane + pixel] == segment))
                if set != (labels[slice * plane + pixel] == segment) { return }
            }
        }
    }

    @Test("dciodvfy (dicom3tools) finds no error", .enabled(if: RTStructureSetTests.dciodvfy != nil))
    func validates() async throws {
        let (dataset, _, _) = try Self.segmentation(BrainPhantom())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seg-\(UUID().uuidString).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DICOMWriter.write(dataset, to: url)
        let output = try await ToolProcess.run(RTStructureSetTests.dciodvfy!, [url.path]).text
        let errors = output.split(separator: "\n").filter { $0.hasPrefix("Error") }
        #expect(errors.isEmpty, "\(output)")
    }
}
