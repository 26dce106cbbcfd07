import Foundation
import TestSupport
import Testing

@testable import Gateway

/// Segmentations recorded in metis-tracking through the gateway, read back
/// through /api/v1, the exports and the original /followup-* routes, and
/// forgotten when the study is deleted.
@Suite("Follow-up through metis up", .serialized)
struct FollowUpRouteTests {
    @Test("two examinations of a phantom patient become tracks, RANO-BM, CSV and the original follow-up rows")
    func twoExaminations() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        var baseline = BrainPhantom()
        baseline.study = "2.25.81001"
        baseline.series = "2.25.81001.1"
        var followUp = baseline
        followUp.study = "2.25.81002"
        followUp.series = "2.25.81002.1"
        // The 10 mm radius lesion grew to 14 mm (diameters 20 + 12 → 28 + 12 mm: +25 %, PD); the 4 mm one vanished.
        followUp.lesions = [.init(center: SIMD3(20, -15, 70), radius: 14), .init(center: SIMD3(-35, 25, 90), radius: 6)]
        for phantom in [baseline, followUp] {
            let boundary = "fu-\(UUID().uuidString)"
            let stow = try await HTTP.request(
                "POST", metis.web + "/studies", headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
                body: HTTP.multipart(try phantom.instances().map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
            #expect(stow.status == 200)
            let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(phantom.study)?engine=classical")
            #expect(answer.status == 200, "\(answer.text)")
            let tracking = (try answer.json() as? [String: Any])?["tracking"] as? [String: Any]
            #expect(tracking?["recorded"] as? Bool == true, "\(tracking ?? [:])")
        }

        let patients = try #require(try await HTTP.request("GET", metis.base + "/api/v1/patients").json() as? [String: Any])
        #expect(((patients["patients"] as? [[String: Any]])?.first)?["patientId"] as? String == "PHANTOM-1")
        let timeline = try #require(try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").json() as? [String: Any])
        let tracks = try #require(timeline["tracks"] as? [[String: Any]])
        #expect(tracks.count == 3)
        #expect(tracks.filter { $0["status"] as? String == "resolved" }.count == 1)
        let grown = try #require(tracks.first { (($0["points"] as? [[String: Any]])?.count ?? 0) == 2 && ($0["target"] as? Bool ?? false) })
        let volumes = (grown["points"] as? [[String: Any]])?.compactMap { $0["volumeMm3"] as? Double } ?? []
        let truth = [10.0, 14.0].map { 4 / 3 * Double.pi * $0 * $0 * $0 }
        #expect(volumes.count == 2 && zip(volumes, truth).allSatisfy { abs($0 - $1) / $1 < 0.15 }, "\(volumes) against \(truth)")
        let assessments = try #require(timeline["assessments"] as? [[String: Any]])
        #expect(assessments.map { $0["category"] as? String } == ["BASELINE", "PD"])

        let csv = try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/export.csv")
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        let lines = csv.text.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("patient_id,study_instance_uid,study_date") == true)
        #expect(lines.count == 1 + 3 + 2)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients/NOBODY/timeline").status == 404)

        let original = try #require(try await HTTP.request("GET", metis.base + "/followup-patients").json() as? [[String: Any]])
        let idPatient = try #require(original.first?["idPatient"] as? Int)
        #expect(original.first?["nom"] as? String == "Fantôme^Cérébral")
        let studies = try #require(try await HTTP.request("GET", metis.base + "/followup-etudes?idPatient=\(idPatient)").json() as? [[String: Any]])
        #expect(Set(studies.compactMap { $0["id"] as? String }) == [baseline.study, followUp.study])
        let idEtude = try #require(studies.first { $0["id"] as? String == baseline.study }?["id_study"] as? Int)
        let metastases = try #require(try await HTTP.request("GET", metis.base + "/followup-metastases?idEtude=\(idEtude)").json() as? [[String: Any]])
        #expect(metastases.count == 3)
        #expect(metastases.allSatisfy { $0["volume"] is Double && $0["slideDebut"] is Int && $0["diametre"] is Double })
        #expect(try await HTTP.request("GET", metis.base + "/followup-metastases?idEtude=x").status == 400)

        // Deleting a study in storage removes it from the follow-up; the last one takes the patient.
        #expect(try await HTTP.request("DELETE", metis.base + "/delete-study/\(followUp.study)").status == 200)
        let after = try #require(try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").json() as? [String: Any])
        #expect((after["studies"] as? [Any])?.count == 1)
        #expect(try await HTTP.request("DELETE", metis.web + "/studies/\(baseline.study)").status == 200)
        #expect(try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").status == 404)
    }
}
