import Foundation
import TestSupport
import Testing

@testable import Gateway

/// SIGKILL of storage, tracking and the inference worker at random moments
/// while studies are uploaded and segmented through `metis up`: afterwards
/// every acknowledged instance is intact, nothing half-written remains, every
/// segmentation either succeeded or failed and succeeds when retried, and
/// the follow-up matches storage.
@Suite("Every service killed under load", .serialized)
struct SystemCrashTests {
    /// A small, reproducible random source (the seed is printed on failure).
    struct Dice {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int>) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
    }

    actor Outcomes {
        var acknowledged = Set<String>()
        var segmented = Set<String>()
        var failedSegmentations = Set<String>()
        var kills = [String]()
        func acknowledge(_ study: String) { acknowledged.insert(study) }
        func segmentation(_ study: String, succeeded: Bool) {
            if succeeded { segmented.insert(study) } else { failedSegmentations.insert(study) }
        }
        func killed(_ name: String) { kills.append(name) }
    }

    @Test("random SIGKILLs during uploads and segmentations lose nothing acknowledged and leave nothing half-done")
    func randomKills() async throws {
        let seed = UInt64(Date().timeIntervalSince1970)
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        let phantoms = (1...6).map { index -> BrainPhantom in
            var phantom = BrainPhantom()
            phantom.study = "2.25.8800\(index)"
            phantom.series = "2.25.8800\(index).1"
            phantom.studyDate = "2026010\(index)"
            phantom.sliceOffsets = (0..<16).map { Double($0) * 2.5 }
            phantom.lesions = [.init(center: SIMD3(20, -15, 75), radius: 8)]
            return phantom
        }
        let instances = try Dictionary(uniqueKeysWithValues: phantoms.map { ($0.study, try $0.instances()) })
        let outcomes = Outcomes()

        func upload(_ phantom: BrainPhantom) async -> Bool {
            let boundary = "k-\(UUID().uuidString)"
            let answer = try? await HTTP.request(
                "POST", metis.web + "/studies",
                headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
                body: HTTP.multipart(instances[phantom.study]!.map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
            return answer?.status == 200
        }
        func segment(_ phantom: BrainPhantom) async -> Bool {
            (try? await HTTP.request("POST", metis.base + "/segmentation/\(phantom.study)?engine=classical").status) == 200
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var dice = Dice(state: seed)
                for _ in 0..<6 {
                    try await Task.sleep(for: .milliseconds(dice.next(300...1500)))
                    guard let report = await MetisProcesses.health(metis.base + "/healthz") else { continue }
                    let victims = report.services.filter { ["storage", "tracking", "inference-0"].contains($0.name) && $0.pid != nil }
                    guard !victims.isEmpty else { continue }
                    let victim = victims[dice.next(0...(victims.count - 1))]
                    kill(pid_t(victim.pid!), SIGKILL)
                    await outcomes.killed(victim.name)
                }
            }
            group.addTask {
                for phantom in phantoms {
                    if await upload(phantom) { await outcomes.acknowledge(phantom.study) }
                    await outcomes.segmentation(phantom.study, succeeded: await segment(phantom))
                }
            }
            try await group.waitForAll()
        }
        let kills = await outcomes.kills
        print(
            "system crash test, seed \(seed): killed \(kills); \(await outcomes.acknowledged.count) uploads acknowledged, \(await outcomes.segmented.count) segmentations succeeded, \(await outcomes.failedSegmentations.count) failed"
        )
        #expect(kills.count >= 3, "seed \(seed): the services were killed \(kills)")

        // The supervisor has restarted everything.
        #expect(await MetisProcesses.waitForHealthy(metis.base + "/healthz", timeout: .seconds(120)) != nil, "seed \(seed)")
        // Acknowledged studies are whole and byte-identical.
        for study in await outcomes.acknowledged {
            let phantom = phantoms.first { $0.study == study }!
            let parts = try DICOMwebTests.parts(try await HTTP.request("GET", metis.web + "/studies/\(study)/series/\(phantom.series)"))
            #expect(Set(parts.map(\.body)) == Set(instances[study]!), "seed \(seed): study \(study) lost or damaged instances")
        }
        // Whatever was refused or failed goes through on a retry.
        for phantom in phantoms {
            if await !outcomes.acknowledged.contains(phantom.study) {
                #expect(await upload(phantom), "seed \(seed): upload retry of \(phantom.study)")
            }
            if await !outcomes.segmented.contains(phantom.study) {
                #expect(await segment(phantom), "seed \(seed): segmentation retry of \(phantom.study)")
            }
        }
        // Nothing half-written: no partial file, and one blob per indexed instance (the start-up check removed orphans).
        let storage = metis.directory.appendingPathComponent("data/storage")
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: storage.appendingPathComponent("tmp").path)) ?? []
        #expect(temporary.isEmpty, "seed \(seed): partial files left \(temporary)")
        let stats = try await MetisProcesses.run(
            MetisProcesses.executable("metis-probe"), [metis.directory.appendingPathComponent("data/run/storage.sock").path, "stats"])
        let indexed = Int(stats.output.firstMatch(of: /instances=(\d+)/)?.1 ?? "") ?? -1
        let blobs = (FileManager.default.enumerator(atPath: storage.appendingPathComponent("blobs").path)?.allObjects as? [String] ?? [])
            .filter { $0.split(separator: "/").count == 2 }
        #expect(indexed == phantoms.count * 17, "seed \(seed): \(stats.output)")  // 16 images and one RTSTRUCT each
        #expect(blobs.count <= indexed + kills.count, "seed \(seed): \(blobs.count) blobs for \(indexed) instances")
        // The follow-up matches storage: every segmented study is recorded (the outbox delivers what a kill interrupted).
        try await waitForFollowUp(of: phantoms.map(\.study), base: metis.base, seed: seed)
    }

    func waitForFollowUp(of studies: [String], base: String, seed: UInt64) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        var missing = studies
        while !missing.isEmpty, ContinuousClock.now < deadline {
            var still = [String]()
            for study in missing where (try? await HTTP.request("GET", base + "/api/v1/studies/\(study)/lesions").status) != 200 {
                still.append(study)
            }
            missing = still
            if !missing.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(missing.isEmpty, "seed \(seed): not in the follow-up: \(missing)")
        let patients = try await HTTP.request("GET", base + "/api/v1/patients/PHANTOM-1/studies")
        let recorded =
            ((try patients.json() as? [String: Any])?["studies"] as? [[String: Any]])?.compactMap { $0["studyInstanceUid"] as? String }
            ?? []
        #expect(Set(recorded) == Set(studies), "seed \(seed): tracking holds \(recorded)")
    }
}
