import DICOM
import Foundation
import TestSupport
@testable import Gateway
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A model reading two MR sequences, end to end through `metis up`: the
/// committed two-sequence SegResNet (Tests/Fixtures/neural/make_two_sequence_model.py),
/// trained to mark what is bright on both post-contrast T1 and FLAIR (the
/// lesions) and what is bright on FLAIR only (a label of its own), given a
/// study whose FLAIR is on another grid, misses one of the enhancing lesions
/// and shows a hyperintensity that does not enhance.
@Suite("Multi-sequence models through metis up", .serialized)
struct MultiSequenceTests {
    static let card = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/two-sequence/two-sequence.json")

    /// The post-contrast T1 and FLAIR of one study; lesion 2 (6 mm) is not bright on the FLAIR, which has 2.4 mm pixels and
    /// 3 mm slices; region 4 (7 mm) is bright on the FLAIR only.
    static func study(_ uid: String, flairFrame: String? = nil) -> (t1c: BrainPhantom, flair: BrainPhantom) {
        var t1c = BrainPhantom()
        t1c.lesions.append(BrainPhantom.Lesion(center: SIMD3(-20, -40, 60), radius: 7))
        t1c.lesionValues = [1500, 1500, 1500, 600]
        t1c.study = uid
        t1c.series = uid + ".1"
        t1c.frameOfReference = uid + ".100"
        var flair = t1c
        flair.series = uid + ".2"
        flair.seriesDescription = "AX FLAIR"
        flair.seriesNumber = 4
        flair.frameOfReference = flairFrame ?? t1c.frameOfReference
        flair.rowSpacing = 2.4
        flair.columnSpacing = 2.4
        flair.columns = 80
        flair.rows = 80
        flair.sliceOffsets = (0..<50).map { Double($0) * 3 }
        flair.lesionValues = [1500, 600, 1500, 1500]
        return (t1c, flair)
    }

    static func store(_ phantoms: [BrainPhantom], on metis: DICOMwebTests.Installation) async throws {
        let boundary = "multi-\(UUID().uuidString)"
        let stow = try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: HTTP.multipart(
                try phantoms.flatMap { try $0.instances() }.map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
        #expect(stow.status == 200, "\(stow.text)")
    }

    @Test("T1c and FLAIR are chosen per channel and aligned; a missing FLAIR or another frame of reference is a 422 naming it")
    func twoSequences() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20, arguments: ["--model", Self.card.path])
        defer { metis.stop() }
        let health = try #require(try await HTTP.request("GET", metis.base + "/healthz").json() as? [String: Any])
        let worker = try #require(
            (health["services"] as? [[String: Any]])?.first { ($0["name"] as? String)?.hasPrefix("inference") == true })
        #expect((worker["details"] as? [String: String])?["engines"]?.contains("segresnet") == true, "\(worker)")

        let (t1c, flair) = Self.study("2.25.81001")
        try await Self.store([t1c, flair], on: metis)
        let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(t1c.study)?engine=segresnet")
        #expect(answer.status == 200, "\(answer.text)")
        let report = try #require(try answer.json() as? [String: Any])
        #expect(report["engine"] as? String == "segresnet")
        #expect(report["notice"] as? String == "automatic, test fixture, not a clinical model")
        #expect(report["seriesInstanceUID"] as? String == t1c.series)
        let channels = try #require(report["channels"] as? [[String: Any]])
        #expect(channels.compactMap { $0["seriesInstanceUID"] as? String } == [t1c.series, flair.series])
        #expect(channels.compactMap { $0["sequence"] as? String } == ["t1c", "flair"])
        // Bright on both: lesions 1 and 3. Lesion 2 enhances but is not bright on the FLAIR, so this model leaves it out.
        let lesions = try #require(report["lesions"] as? [[String: Any]])
        let centroids = lesions.compactMap { $0["centroidMm"] as? [Double] }.map { SIMD3($0[0], $0[1], $0[2]) }
        func near(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Bool { ((a - b) * (a - b)).sum().squareRoot() <= 4 }
        #expect(centroids.count == 2, "\(lesions)")
        #expect(centroids.contains { near($0, t1c.lesions[0].center) }, "\(centroids)")
        #expect(centroids.contains { near($0, t1c.lesions[2].center) }, "\(centroids)")
        #expect(!centroids.contains { near($0, t1c.lesions[1].center) }, "\(centroids)")
        // Bright on the FLAIR only: not a lesion, but the model's label 2, written as its own ROI after the lesions.
        #expect(!centroids.contains { near($0, t1c.lesions[3].center) }, "\(centroids)")
        #expect(report["labels"] as? [String] == ["FLAIR-bright without enhancement"], "\(report["labels"] ?? "")")
        let output = try #require(report["output"] as? [String: String])
        let retrieved = try await HTTP.request(
            "GET", metis.web + "/studies/\(t1c.study)/series/\(try #require(output["seriesInstanceUID"]))")
        let dataset = try DICOMReader.read(try #require(try DICOMwebTests.parts(retrieved).first).body).dataset
        let referenced = dataset.items(.referencedFrameOfReferenceSequence)?.first?.items(.rtReferencedStudySequence)?.first?.items(
            .rtReferencedSeriesSequence)?.first
        #expect(referenced?.string(.seriesInstanceUID) == t1c.series)
        let rois = dataset.items(.structureSetROISequence)?.compactMap { $0.string(.roiName) }
        #expect(rois == ["Lesion 1", "Lesion 2", "FLAIR-bright without enhancement"], "\(rois ?? [])")
        let colors = dataset.items(.roiContourSequence)?.compactMap { $0.strings(.roiDisplayColor)?.joined(separator: "\\") }
        #expect(colors?.last == "0\\200\\255", "\(colors ?? [])")
        // The label's contours lie around region 4.
        let labelPoints = try #require(dataset.items(.roiContourSequence)?.last?.items(.contourSequence)).flatMap {
            ($0.strings(.contourData) ?? []).compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        try #require(labelPoints.count >= 9 && labelPoints.count % 3 == 0, "\(labelPoints.count) coordinates")
        let labelCentre =
            stride(from: 0, to: labelPoints.count, by: 3).reduce(SIMD3<Double>(0, 0, 0)) {
                $0 + SIMD3(labelPoints[$1], labelPoints[$1 + 1], labelPoints[$1 + 2])
            } / Double(labelPoints.count / 3)
        #expect(near(labelCentre, t1c.lesions[3].center), "\(labelCentre)")

        // As a DICOM SEG: one segment per lesion, then the label.
        let seg = try await HTTP.request("POST", metis.base + "/segmentation/\(t1c.study)?engine=segresnet&format=seg")
        #expect(seg.status == 200, "\(seg.text)")
        let segOutput = try #require((try seg.json() as? [String: Any])?["output"] as? [String: String])
        let segRetrieved = try await HTTP.request(
            "GET", metis.web + "/studies/\(t1c.study)/series/\(try #require(segOutput["seriesInstanceUID"]))")
        let segDataset = try DICOMReader.read(try #require(try DICOMwebTests.parts(segRetrieved).first).body).dataset
        #expect(
            segDataset.items(.segmentSequence)?.compactMap { $0.string(.segmentLabel) }
                == ["Lesion 1", "Lesion 2", "FLAIR-bright without enhancement"])

        // A requested series (an arrival rule's, the FLAIR that just arrived) takes the channel that reads its sequence.
        let requested = try await HTTP.request("POST", metis.base + "/segmentation/\(t1c.study)?engine=segresnet&series=\(flair.series)")
        #expect(requested.status == 200, "\(requested.text)")
        let requestedChannels = try #require((try requested.json() as? [String: Any])?["channels"] as? [[String: Any]])
        #expect(requestedChannels.compactMap { $0["seriesInstanceUID"] as? String } == [t1c.series, flair.series])

        // No FLAIR in the study: refused, naming the sequence the model's second channel needs.
        let (alone, _) = Self.study("2.25.81002")
        try await Self.store([alone], on: metis)
        let missing = try await HTTP.request("POST", metis.base + "/segmentation/\(alone.study)?engine=segresnet")
        #expect(missing.status == 422, "\(missing.text)")
        let missingMessage = (try? missing.json() as? [String: Any])?["error"] as? String ?? missing.text
        #expect(missingMessage.contains("input channel 2 of 2 needs FLAIR"), "\(missingMessage)")

        // A FLAIR in another frame of reference: refused, naming both series, since Metis does not register images.
        let (t1cOther, flairOther) = Self.study("2.25.81003", flairFrame: "2.25.81003.200")
        try await Self.store([t1cOther, flairOther], on: metis)
        let other = try await HTTP.request("POST", metis.base + "/segmentation/\(t1cOther.study)?engine=segresnet")
        #expect(other.status == 422, "\(other.text)")
        #expect(other.text.contains(flairOther.series) && other.text.contains("frame of reference"), "\(other.text)")

        // The classical engine still reads the one series it needs.
        let classical = try await HTTP.request("POST", metis.base + "/segmentation/\(alone.study)?engine=classical")
        #expect(classical.status == 200, "\(classical.text)")
        #expect(((try classical.json() as? [String: Any])?["channels"] as? [Any])?.count == 1)
    }

    @Test("metis segment reads both series of a folder offline, with the same channels and lesions")
    func offline() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-multi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (t1c, flair) = Self.study("2.25.81004")
        for (index, bytes) in try (t1c.instances() + flair.instances()).enumerated() {
            try bytes.write(to: directory.appendingPathComponent("IM\(index)"))
        }
        let out = directory.appendingPathComponent("result.dcm")
        let run = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            ["segment", directory.path, "--out", out.path, "--model", Self.card.path, "--engine", "segresnet", "--json"])
        #expect(run.status == 0, "\(run.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect((report["channels"] as? [[String: Any]])?.compactMap { $0["seriesInstanceUID"] as? String } == [t1c.series, flair.series])
        #expect((report["lesions"] as? [Any])?.count == 2, "\(report["lesions"] ?? "")")
        #expect(report["labels"] as? [String] == ["FLAIR-bright without enhancement"])
        let table = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            ["segment", directory.path, "--out", out.path, "--model", Self.card.path, "--engine", "segresnet"])
        #expect(table.output.contains("series \(flair.series): channel 2: FLAIR"), "\(table.output)")
        #expect(table.output.contains("the model's other labels, written after the lesions: FLAIR-bright without enhancement"))
    }
}
