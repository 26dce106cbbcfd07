import DICOM
import Foundation
import Imaging
@testable import Gateway
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Heads of the held-out MNI generator (Tests/Fixtures/phantoms), segmented through `metis up` as a user would:
/// the default engine and why, nothing reported outside the intracranial volume, results labelled automatic.
@Suite("Segmentation of unseen heads through metis up", .serialized)
struct UnseenHeadTests {
    /// The truth code (0 outside the head, 1 outside the intracranial volume, 2 inside, ≥ 3 lesion) at a patient position.
    static func truth(at point: [Double], volume: Volume, truth: [UInt8]) -> UInt8 {
        let g = volume.geometry
        let p = SIMD3(point[0], point[1], point[2])
        let locations = g.sliceLocations
        let along = (p * g.normal).sum()
        let slice = locations.indices.min { abs(locations[$0] - along) < abs(locations[$1] - along) }!
        let offset = p - g.slicePositions[slice]
        let column = Int(((offset * g.rowDirection).sum() / g.columnSpacing).rounded())
        let row = Int(((offset * g.columnDirection).sum() / g.rowSpacing).rounded())
        guard (0..<g.columns).contains(column), (0..<g.rows).contains(row) else { return 0 }
        return truth[volume.index(column: column, row: row, slice: slice)]
    }

    @Test(
        "the default engine is chosen by evidence; no lesion outside the intracranial volume; the RTSTRUCT says it is automatic",
        arguments: ["mni-t1c", "mni-healthy"])
    func unseenHead(name: String) async throws {
        let phantom = PhantomCase(name)
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        let instances = try phantom.instances()
        let boundary = "unseen-\(UUID().uuidString)"
        let stow = try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: HTTP.multipart(instances.map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
        #expect(stow.status == 200)
        let files = try phantom.files()
        let study = try #require(files[0].dataset.string(.studyInstanceUID))

        let health = try #require(try await HTTP.request("GET", metis.base + "/healthz").json() as? [String: Any])
        let worker = try #require(
            (health["services"] as? [[String: Any]])?.first { ($0["name"] as? String)?.hasPrefix("inference") == true })
        let details = try #require(worker["details"] as? [String: String])
        #expect(details["default_engine"] == "classical")
        #expect(details["default_engine_reason"]?.contains("misses its targets") == true, "\(details)")

        let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(study)")
        #expect(answer.status == 200, "\(answer.text)")
        let report = try #require(try answer.json() as? [String: Any])
        #expect(report["engine"] as? String == "classical")
        #expect((report["seriesChoice"] as? String)?.contains("post-contrast T1") == true, "\(report["seriesChoice"] ?? "")")
        #expect(report["notice"] as? String == "automatic, research use, not validated on patient data")
        let volume = try VolumeBuilder.build(files)
        let truth = try phantom.truth()
        let lesions = try #require(report["lesions"] as? [[String: Any]])
        for lesion in lesions {
            let centroid = try #require(lesion["centroidMm"] as? [Double])
            #expect(
                Self.truth(at: centroid, volume: volume, truth: truth) >= 2,
                "\(name): a lesion at \(centroid) outside the intracranial volume")
        }
        if name == "mni-healthy" {
            // A target of issue 17 not met yet: the classical engine takes enhancing vessels of this healthy head for lesions.
            withKnownIssue("the default engine reports vessels of a healthy held-out head as lesions") {
                #expect(lesions.isEmpty, "\(lesions.count) lesions on a healthy head")
            }
        }
        guard !lesions.isEmpty else {
            #expect(report["output"] == nil, "a run that finds no lesion stores no structure set")
            return
        }
        let output = try #require(report["output"] as? [String: String])
        let series = try #require(output["seriesInstanceUID"])
        let retrieved = try await HTTP.request("GET", metis.web + "/studies/\(study)/series/\(series)")
        let dataset = try DICOMReader.read(try #require(try DICOMwebTests.parts(retrieved).first).body).dataset
        #expect(dataset.string(.structureSetDescription)?.hasPrefix("automatic, research use, not validated on patient data") == true)
        #expect(dataset.string(.seriesDescription) == "Metis lesions (classical, automatic)")
        let roi = try #require(dataset.items(.structureSetROISequence)?.first)
        #expect(roi.string(.roiGenerationAlgorithm) == "AUTOMATIC")
        let observation = try #require(dataset.items(.rtroiObservationsSequence)?.first)
        #expect(
            observation[.rtroiInterpretedType] != nil && (observation.string(.rtroiInterpretedType) ?? "").isEmpty,
            "RTROIInterpretedType present and empty")
    }
}
