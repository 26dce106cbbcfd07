import DICOM
import Foundation
import TestSupport
import Testing

/// `arrival_rules` through `metis up`: a series sent from a scanner with
/// dcmtk's storescu is segmented once complete and its structure set sent to
/// the planning system (a storescp the test runs), with nobody clicking; the
/// job survives a SIGKILL of the gateway and waits out a destination that is
/// down.
@Suite("Arrival rules through metis up", .serialized)
struct ArrivalRuleTests {
    /// Polls `GET /api/v1/arrivals` until `condition` holds for the answer (60 s).
    static func arrivals(
        _ metis: DICOMwebTests.Installation, until condition: ([String: Any]) -> Bool, seconds: Int = 120
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var last = [String: Any]()
        while ContinuousClock.now < deadline {
            if let answer = try? await HTTP.request("GET", metis.base + "/api/v1/arrivals"), answer.status == 200,
                let object = try? answer.json() as? [String: Any]
            {
                last = object
                if condition(object) { return object }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("arrivals never reached the expected state: \(last)")
        return last
    }

    static func jobs(_ answer: [String: Any]) -> [[String: Any]] { answer["jobs"] as? [[String: Any]] ?? [] }

    @Test(
        "storescu → complete series → segment → RTSTRUCT to the planning AE and lesions in the follow-up; the job survives a gateway SIGKILL and a destination that is down",
        .enabled(if: DIMSEEdgeTests.hasDCMTK || ProcessInfo.processInfo.environment["CI"] != nil))
    func segmentAndSendBack() async throws {
        let planPort = try MetisProcesses.freePort()
        let metis = try await DICOMwebTests.Installation(
            maximumUpload: 64 << 20, dicomPeers: "MRI1@127.0.0.1:104/store, PLAN@127.0.0.1:\(planPort)/store",
            arguments: [
                "--arrival-rules", "modality=MR calling_ae=MRI1 -> segment=classical send=PLAN",
                "--series-stable-seconds", "2", "--arrival-retry-seconds", "1",
            ])
        defer { metis.stop() }
        let phantom = BrainPhantom()
        let files = try DIMSEEdgeTests.write(try phantom.instances(), to: metis.directory.appendingPathComponent("scanner"))
        let sent = try await DIMSEEdgeTests.dcmtk(
            "storescu", ["-aet", "MRI1", "-aec", "METIS", "127.0.0.1", String(metis.dicomPort)] + files)
        #expect(sent.status == 0, "\(sent.text)")

        // Complete after 2 s; segmented; the send fails while PLAN is down, and waits to be tried again.
        let waiting = try await Self.arrivals(metis) { answer in
            Self.jobs(answer).contains { ($0["attempts"] as? Int ?? 0) >= 1 && $0["state"] as? String == "retrying" }
        }
        let job = try #require(Self.jobs(waiting).first)
        #expect(job["studyInstanceUID"] as? String == phantom.study && job["seriesInstanceUID"] as? String == phantom.series)
        #expect(job["channel"] as? String == "DIMSE" && job["source"] as? String == "MRI1" && job["ruleNumber"] as? Int == 1)
        #expect(job["actions"] as? [String] == ["segment=classical", "send=PLAN"])
        #expect(job["actionsDone"] as? Int == 1, "segmented, not yet sent: \(job)")
        #expect((job["lastError"] as? String)?.contains("PLAN") == true, "\(job)")
        let result = try #require(job["resultSeriesInstanceUID"] as? String)

        // The segmentation job shows with its origin (in memory: /api/v1/arrivals is what survives a restart).
        let segmentations = try await HTTP.request("GET", metis.base + "/api/v1/segmentations?study=\(phantom.study)")
        let segmentation = try #require((try segmentations.json() as? [[String: Any]])?.first, "\(segmentations.text)")
        #expect(segmentation["origin"] as? String == "arrival rule 1 (DIMSE from MRI1)", "\(segmentations.text)")
        #expect(segmentation["id"] as? String == job["segmentationJobID"] as? String && segmentation["status"] as? String == "succeeded")

        // SIGKILL the gateway: metis up restarts it, and the persisted job goes on from its second step.
        let before = try #require(await MetisProcesses.health(metis.base + "/healthz"))
        kill(before.pid, SIGKILL)
        let after = try #require(await MetisProcesses.waitForHealthy(metis.base + "/healthz", timeout: .seconds(90)))
        #expect(after.pid != before.pid)
        let plan = metis.directory.appendingPathComponent("plan")
        try FileManager.default.createDirectory(at: plan, withIntermediateDirectories: true)
        let storescp = try DIMSEEdgeTests.peer("/usr/bin/storescp", ["-aet", "PLAN", "-od", plan.path, String(planPort)])
        defer { DIMSEEdgeTests.stop(storescp) }

        let done = try await Self.arrivals(metis) { answer in Self.jobs(answer).first?["state"] as? String == "succeeded" }
        let finished = try #require(Self.jobs(done).first)
        #expect(finished["id"] as? String == job["id"] as? String, "the same job, not a second one")
        #expect(finished["actionsDone"] as? Int == 2)
        #expect((finished["notes"] as? [String])?.contains("result sent to PLAN") == true, "\(finished)")

        // The planning system has the structure set, referencing the images sent.
        let received = try DIMSEEdgeTests.received(in: plan)
        let structureSet = try #require(received.values.first, "storescp received nothing")
        #expect(received.count == 1)
        #expect(structureSet.dataset.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.481.3")
        #expect(structureSet.dataset.string(.seriesInstanceUID) == result)
        #expect(structureSet.dataset.string(.studyInstanceUID) == phantom.study)

        // The follow-up has the lesions; the study list knows it came over DICOM.
        let lesions = try await HTTP.request("GET", metis.base + "/api/v1/studies/\(phantom.study)/lesions")
        #expect(lesions.status == 200 && lesions.text.contains("Lesion 1"), "\(lesions.text)")
        let study = try #require((done["studies"] as? [[String: Any]])?.first { $0["studyInstanceUID"] as? String == phantom.study })
        #expect(
            study["channel"] as? String == "DIMSE" && study["source"] as? String == "MRI1" && study["automatic"] as? String == "succeeded")

        // A study uploaded over STOW-RS matches no rule (calling_ae=MRI1): recorded, never segmented.
        let other = try MRStudy(
            study: "2.25.4242", patientID: "PAT-STOW", patientName: "Autre^Patient", date: "20260101", series: 1, slices: 4)
        let boundary = "arrival-\(UUID().uuidString)"
        let stow = try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: HTTP.multipart(other.instances.map { ("Content-Type: application/dicom", $0.bytes) }, boundary: boundary))
        #expect(stow.status == 200)
        let listed = try await Self.arrivals(
            metis,
            until: { answer in
                (answer["studies"] as? [[String: Any]])?.contains { $0["studyInstanceUID"] as? String == "2.25.4242" } == true
            })
        try await Task.sleep(for: .seconds(3))
        let later = try await HTTP.request("GET", metis.base + "/api/v1/arrivals?study=2.25.4242")
        let laterJSON = try #require(try later.json() as? [String: Any])
        #expect(Self.jobs(laterJSON).isEmpty, "no rule matched: \(later.text)")
        let stowed = try #require((listed["studies"] as? [[String: Any]])?.first { $0["studyInstanceUID"] as? String == "2.25.4242" })
        #expect(stowed["channel"] as? String == "STOW-RS" && stowed["automatic"] == nil)
    }
}
