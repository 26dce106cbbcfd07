import DICOM
import Foundation
import Imaging
import MetisProto
import Segmentation
@testable import SegmentationWorkflow
import Testing
import TestSupport

@Suite("Segmentation workflow")
struct SegmentationWorkflowTests {
    /// A folder holding a phantom series (and a file that is no DICOM), removed when the test ends.
    final class Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metis-workflow-\(UUID().uuidString.prefix(8))")
        let phantom: BrainPhantom

        init(_ phantom: BrainPhantom = BrainPhantom()) throws {
            self.phantom = phantom
            try FileManager.default.createDirectory(at: url.appendingPathComponent("series"), withIntermediateDirectories: true)
            for (index, bytes) in try phantom.instances().enumerated() {
                try bytes.write(to: url.appendingPathComponent("series/IM\(index)"))
            }
            try Data("notes".utf8).write(to: url.appendingPathComponent("README"))
        }

        var files: [URL] {
            (FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []).filter {
                !$0.hasDirectoryPath
            }
        }

        var out: URL { url.appendingPathComponent("result.dcm") }

        func workflow(maximumSeriesSize: Int = 512 << 20) -> SegmentationWorkflow {
            SegmentationWorkflow(
                source: FileSeriesSource(files: files), runner: PipelineRunner(engine: ClassicalEngine(), softwareVersion: "test"),
                results: FileResultStore(url: out), recorder: nil, maximumSeriesSize: maximumSeriesSize)
        }

        deinit { try? FileManager.default.removeItem(at: url) }
    }

    @Test("offline, the workflow chooses the series, runs the pipeline and writes the result, recording nothing")
    func offline() async throws {
        let folder = try Folder()
        let source = FileSeriesSource(files: folder.files)
        #expect(source.skipped == 1)
        #expect(source.studies == [folder.phantom.study])
        let stages = StageLog()
        let report = try await folder.workflow().run(.init(study: folder.phantom.study)) { stage, _ in stages.add(stage) }
        #expect(report.seriesInstanceUID == folder.phantom.series)
        #expect(report.seriesChoice.contains("post-contrast T1"), "\(report.seriesChoice)")
        #expect(report.engine == "classical")
        #expect(report.lesions.map(\.name) == ["Lesion 1", "Lesion 2", "Lesion 3"])
        for truth in folder.phantom.lesions {
            #expect(report.lesions.contains { length($0.measurement.centroid - truth.center) <= 3 }, "no lesion at \(truth.center)")
        }
        #expect(report.tracking == nil)
        #expect(report.replacedSeries.isEmpty)
        let output = try #require(report.output)
        #expect(output.retrieveURL == folder.out.absoluteString)
        let written = try DICOMReader.read(contentsOf: folder.out).dataset
        #expect(written.string(.sopInstanceUID) == output.sopInstanceUID)
        #expect(written.string(.seriesInstanceUID) == output.seriesInstanceUID)
        #expect(written.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.481.3")
        #expect(report.timings.map(\.stage).starts(with: ["fetch", "volume", "engine"]))
        #expect(report.timings.last?.stage == "store")
        #expect(stages.stages.contains("engine") && stages.stages.last == "store")
    }

    @Test("an unknown study or series, or a series over the size limit, fails with its reason and writes nothing")
    func refusals() async throws {
        let folder = try Folder()
        let workflow = folder.workflow()
        await #expect {
            try await workflow.run(.init(study: "2.25.404"))
        } throws: { error in
            guard case SegmentationWorkflowError.noStudy("2.25.404") = error else { return false }
            return true
        }
        await #expect {
            try await workflow.run(.init(study: folder.phantom.study, series: "2.25.405"))
        } throws: { error in
            guard case SegmentationWorkflowError.noSeries(_, "2.25.405") = error else { return false }
            return true
        }
        await #expect {
            try await folder.workflow(maximumSeriesSize: 1000).run(.init(study: folder.phantom.study))
        } throws: { error in
            guard case SegmentationWorkflowError.seriesTooLarge(let series, let bytes, 1000) = error else { return false }
            return series == folder.phantom.series && bytes > 1000
        }
        await #expect {
            try await workflow.run(.init(study: folder.phantom.study, engine: "unetr"))
        } throws: { error in
            guard case SegmentationWorkflowError.unknownEngine("unetr", let available) = error else { return false }
            return available == ["classical"]
        }
        #expect(!FileManager.default.fileExists(atPath: folder.out.path))
    }

    @Test("a series no decoder reads is refused before it reaches an engine; lossy input is flagged")
    func pixelCheck() throws {
        var phantom = BrainPhantom()
        phantom.sliceOffsets = [0, 2.5]
        let files = try phantom.instances()
        #expect(try SegmentationWorkflow.inspect(files, series: phantom.series).lossy == false)
        var dataset = try DICOMReader.read(files[0]).dataset
        dataset[.lossyImageCompression] = .text(.lossyImageCompression, .CS, "01")
        #expect(try SegmentationWorkflow.inspect([try DICOMWriter.write(dataset)], series: phantom.series).lossy == true)
        // The same image encapsulated in JPIP (which Metis does not decode).
        var encapsulated = try DICOMReader.read(files[0]).dataset
        guard case .bytes(let native)? = encapsulated[.pixelData]?.value else { throw CancellationError() }
        encapsulated[.pixelData] = DataElement(
            tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(basicOffsetTable: Data(), fragments: [native])))
        let jpip = try DICOMWriter.write(encapsulated, transferSyntax: TransferSyntax(uid: "1.2.840.10008.1.2.4.94"))
        #expect {
            try SegmentationWorkflow.inspect([jpip], series: phantom.series).lossy
        } throws: { error in
            guard case SegmentationWorkflowError.undecodable(let series, let syntax) = error else { return false }
            return series == phantom.series && syntax.contains("1.2.840.10008.1.2.4.94")
        }
    }

    @Test("a study whose only series is too short for any engine is refused with what it holds")
    func nothingToSegment() async throws {
        var phantom = BrainPhantom()
        phantom.sliceOffsets = [0, 2.5, 5]
        let folder = try Folder(phantom)
        await #expect {
            try await folder.workflow().run(.init(study: phantom.study))
        } throws: { error in
            guard case SegmentationWorkflowError.noSeriesToSegment(_, "classical", let none) = error else { return false }
            return "\(error)".contains("no series to segment with classical") && none.none.found.isEmpty
        }
    }

    @Test("an outcome crosses the wire unchanged: lesions, dropped components, output and examination")
    func wire() async throws {
        let folder = try Folder()
        let instances = try folder.phantom.instances()
        let outcome = try await PipelineRunner(engine: ClassicalEngine(), softwareVersion: "test")
            .run(
                channels: [SeriesInstances(seriesInstanceUID: folder.phantom.series, instances: instances)], engine: "", format: .seg
            ) { _, _ in }
        #expect(outcome.lesions.count == 3)
        let message = Metis_V1_SegmentResult(outcome)
        let back = try SegmentationOutcome(message)
        #expect(back.lesions == outcome.lesions)
        #expect(back.rejected == outcome.rejected)
        #expect(back.examination == outcome.examination)
        #expect(back.examination.patientName == folder.phantom.patientName)
        #expect(back.output?.dicom == outcome.output?.dicom)
        #expect(back.output?.format == .seg)
        #expect(back.headCentroid == outcome.headCentroid)
        let record = back.followUpRecord(study: folder.phantom.study, structureSet: "2.25.9")
        #expect(record.lesions.map(\.roiNumber) == [1, 2, 3])
        #expect(record.lesions.map(\.volumeMm3) == outcome.lesions.map(\.measurement.volume))

        let rejection = LesionPlausibility.Rejection(
            reason: .liningInnerSkull(fraction: 0.4), volume: 120, voxelCount: 30, centroid: SIMD3(1, 2, 3))
        #expect(try LesionPlausibility.Rejection(Metis_V1_RejectedComponent(rejection)) == rejection)
        var broken = message
        broken.lesions[0].centroid = [1]
        #expect(throws: WireError.self) { try SegmentationOutcome(broken) }
        var unknown = Metis_V1_RejectedComponent(rejection)
        unknown.reason = "too_bright"
        #expect(throws: WireError.self) { try LesionPlausibility.Rejection(unknown) }
    }

    @Test("a lesion reads back from the report's JSON as it was")
    func lesionJSON() throws {
        let lesion = Lesion(
            number: 2, name: "Lesion 2", color: .init(red: 60, green: 180, blue: 75),
            measurement: .init(
                volume: 523.6, voxelCount: 131, longestDiameter: 10.2, longestAxialDiameter: 9.8, perpendicularDiameter: 9.1,
                axialDiameterSlice: 12, centroid: SIMD3(-10.5, 22, 40.25), firstSlice: 10, lastSlice: 14, meanIntensity: 812.5))
        let json = try JSONEncoder().encode(lesion)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["volumeMm3"] as? Double == 523.6)
        #expect(object["color"] as? [Int] == [60, 180, 75])
        #expect(try JSONDecoder().decode(Lesion.self, from: json) == lesion)
    }
}

/// The stages a run reported, in order.
final class StageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log = [String]()

    func add(_ stage: String) {
        lock.withLock { if log.last != stage { log.append(stage) } }
    }

    var stages: [String] { lock.withLock { log } }
}

private func length(_ v: SIMD3<Double>) -> Double { (v * v).sum().squareRoot() }
