import Foundation
import TestSupport
import Testing

@testable import Gateway

/// Segmentations recorded in metis-tracking through the gateway, read back
/// through /api/v1, the exports and the original /followup-* routes, and
/// forgotten when the study is deleted.
@Suite("Follow-up through metis up", .serialized)
struct FollowUpRouteTests {
    @Test(
        "a baseline and two follow-ups (head shifted; lesions shrink, vanish, regrow, appear) become tracks, RANO-BM, CSV and the original rows"
    )
    func threeExaminations() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        // BASELINE (20, 12, 8 mm) → PR (the head shifted, 16 and 6 mm) → PD (22 mm and a new 14 mm lesion).
        let (baseline, first, second) = BrainPhantom.threeExaminations(studyPrefix: "2.25.8100")
        // Segmented out of date order: the tracks follow the dates.
        for phantom in [second, baseline, first] {
            let boundary = "fu-\(UUID().uuidString)"
            let stow = try await HTTP.request(
                "POST", metis.web + "/studies",
                headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
                body: HTTP.multipart(try phantom.instances().map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
            #expect(stow.status == 200)
            let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(phantom.study)?engine=classical")
            #expect(answer.status == 200, "\(answer.text)")
            let tracking = (try answer.json() as? [String: Any])?["tracking"] as? [String: Any]
            #expect(tracking?["recorded"] as? Bool == true, "\(tracking ?? [:])")
        }

        let listed = try await HTTP.request("GET", metis.base + "/api/v1/patients")
        let patients = try #require(try listed.json() as? [String: Any])
        #expect(((patients["patients"] as? [[String: Any]])?.first)?["patientId"] as? String == "PHANTOM-1")
        #expect((patients["patients"] as? [[String: Any]])?.first?["studies"] as? Int == 3)
        // The list's ETag follows the tracking revision: unchanged, a client's copy is current.
        let tag = try #require(listed.headers["etag"])
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients").headers["etag"] == tag)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients", headers: ["If-None-Match": tag]).status == 304)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients?limit=1").headers["etag"] != tag)
        let timeline = try #require(
            try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").json() as? [String: Any])
        let tracks = try #require(timeline["tracks"] as? [[String: Any]])
        #expect(tracks.count == 4)
        #expect(tracks.filter { $0["status"] as? String == "resolved" }.count == 1)
        #expect(tracks.filter { $0["status"] as? String == "new" }.count == 1)
        #expect(tracks.filter { $0["status"] as? String == "present" }.count == 2)
        let largest = try #require(
            tracks.first {
                (($0["points"] as? [[String: Any]])?.count ?? 0) == 3 && ($0["target"] as? Bool ?? false)
                    && ((($0["points"] as? [[String: Any]])?.first?["longestDiameterMm"] as? Double ?? 0) > 15)
            })
        let volumes = (largest["points"] as? [[String: Any]])?.compactMap { $0["volumeMm3"] as? Double } ?? []
        let truth = [10.0, 8.0, 11.0].map { 4 / 3 * Double.pi * $0 * $0 * $0 }
        #expect(volumes.count == 3 && zip(volumes, truth).allSatisfy { abs($0 - $1) / $1 < 0.05 }, "\(volumes) against \(truth)")
        let assessments = try #require(timeline["assessments"] as? [[String: Any]])
        #expect(assessments.map { $0["category"] as? String } == ["BASELINE", "PR", "PD"])
        #expect(assessments.map { $0["studyDate"] as? String } == ["20260105", "20260405", "20260705"])

        let csv = try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/export.csv")
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        let lines = csv.text.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("patient_id,study_instance_uid,study_date") == true)
        let expectedLines = 1 + 3 + 2 + 3  // the header, then one row per lesion per study
        #expect(lines.count == expectedLines)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients/NOBODY/timeline").status == 404)

        let original = try #require(try await HTTP.request("GET", metis.base + "/followup-patients").json() as? [[String: Any]])
        let idPatient = try #require(original.first?["idPatient"] as? Int)
        #expect(original.first?["nom"] as? String == "Fantôme^Cérébral")
        let studies = try #require(
            try await HTTP.request("GET", metis.base + "/followup-etudes?idPatient=\(idPatient)").json() as? [[String: Any]])
        #expect(Set(studies.compactMap { $0["id"] as? String }) == [baseline.study, first.study, second.study])
        let idEtude = try #require(studies.first { $0["id"] as? String == baseline.study }?["id_study"] as? Int)
        let metastases = try #require(
            try await HTTP.request("GET", metis.base + "/followup-metastases?idEtude=\(idEtude)").json() as? [[String: Any]])
        #expect(metastases.count == 3)
        #expect(metastases.allSatisfy { $0["volume"] is Double && $0["slideDebut"] is Int && $0["diametre"] is Double })
        #expect(try await HTTP.request("GET", metis.base + "/followup-metastases?idEtude=x").status == 400)

        // Deleting a study in storage removes it from the follow-up; the last one takes the patient.
        #expect(try await HTTP.request("DELETE", metis.base + "/delete-study/\(first.study)").status == 200)
        let after = try #require(try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").json() as? [String: Any])
        #expect((after["studies"] as? [Any])?.count == 2)
        let relisted = try await HTTP.request("GET", metis.base + "/api/v1/patients", headers: ["If-None-Match": tag])
        #expect(relisted.status == 200 && relisted.headers["etag"] != tag)
        #expect(((try relisted.json() as? [String: Any])?["patients"] as? [[String: Any]])?.first?["studies"] as? Int == 2)
        #expect(try await HTTP.request("DELETE", metis.web + "/studies/\(second.study)").status == 200)
        #expect(try await HTTP.request("DELETE", metis.web + "/studies/\(baseline.study)").status == 200)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").status == 404)
    }
}
