import DICOM
import Foundation
import Imaging
import TestSupport
import Testing

@testable import Segmentation

/// The RTSTRUCT read back by pydicom, an independent reader, and its contours
/// re-rasterised on the source images.
@Suite("RTSTRUCT read back by pydicom")
struct IndependentReadbackTests {
    static var hasPydicom: Bool { PythonModules.available("pydicom", "numpy") }

    @Test(
        "contours re-rasterised by pydicom + numpy match the mask (Dice ≥ 0.98)", .enabled(if: hasPydicom),
        arguments: ["oblique", "nonSquare", "descending"])
    func dice(variant: String) async throws {
        let phantom = ClassicalEngineTests.phantom(variant)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-readback-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let series = directory.appendingPathComponent("series")
        try FileManager.default.createDirectory(at: series, withIntermediateDirectories: true)
        let instances = try phantom.instances()
        for (index, bytes) in instances.enumerated() { try bytes.write(to: series.appendingPathComponent("IM\(index)")) }
        let files = try instances.map { try DICOMReader.read($0) }
        let result = try SegmentationPipeline(engine: ClassicalEngine(), softwareVersion: "test").run(files)
        let rtstruct = directory.appendingPathComponent("rtstruct.dcm")
        try #require(result.output).write(to: rtstruct)
        // The engine's own mask, slice by slice in volume order, as the expected mask.
        let volume = try VolumeBuilder.build(files)
        let mask = try ClassicalEngine().segment(volume) { _ in }
        try Data(mask.map { $0 ? 1 : 0 }).write(to: directory.appendingPathComponent("mask"))
        try volume.sources.map(\.sopInstanceUID).joined(separator: "\n").write(
            to: directory.appendingPathComponent("mask.uids"), atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/rtstruct_rasterise.py")
        let output = try await ToolProcess.run(
            "python3", [script.path, rtstruct.path, series.path, directory.appendingPathComponent("mask").path]
        ).text
        let dice = try #require(
            output.split(separator: "=").last.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "\(output)")
        #expect(dice >= 0.98, "\(variant): \(output)")
    }
}
