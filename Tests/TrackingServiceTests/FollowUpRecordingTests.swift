import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

@testable import TrackingService

/// Recording segmentations of one patient's three examinations over RPC: tracks
/// across a shifted head, statuses, RANO-BM per follow-up, replacing and deleting.
@Suite("follow-up recording")
struct FollowUpRecordingTests {
    static func lesion(_ number: UInt32, _ centroid: SIMD3<Double>, diameter: Double, slices: UInt32 = 5) -> Metis_V1_TrackedLesion {
        .with {
            $0.roiNumber = number
            $0.label = "Lesion \(number)"
            $0.volumeMm3 = Double.pi / 6 * diameter * diameter * diameter
            $0.longestDiameterMm = diameter
            $0.longestAxialDiameterMm = diameter
            $0.perpendicularDiameterMm = diameter * 0.8
            $0.firstSlice = 10
            $0.lastSlice = 10 + slices - 1
            $0.centroidMm = [centroid.x, centroid.y, centroid.z]
        }
    }

    static func study(_ index: Int, date: String, head: SIMD3<Double>, lesions: [Metis_V1_TrackedLesion]) -> Metis_V1_RecordStudyRequest {
        .with {
            $0.patientID = "FU-1"
            $0.patientName = "Suivi^Patiente"
            $0.sex = "F"
            $0.studyInstanceUid = "2.25.9000\(index)"
            $0.seriesInstanceUid = "2.25.9000\(index).1"
            $0.structureSetSopInstanceUid = "2.25.9000\(index).2"
            $0.studyDate = date
            $0.engine = "unetr"
            $0.sliceThicknessMm = 1.5
            $0.headCentroidMm = [head.x, head.y, head.z]
            $0.lesions = lesions
        }
    }

    @Test("three examinations: tracks follow a shifted head; grown, vanished and new lesions; RANO-BM; replace; delete")
    func followUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-followup-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let address = RPCAddress.unix(path: directory.appendingPathComponent("tracking.sock").path)
        let server = try TrackingServer.build(
            configuration: TrackingConfiguration(directory: directory.appendingPathComponent("tracking"), address: address),
            version: "test",
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        let connection = RPCConnection(address: address)
        let client = Metis_V1_Tracking.Client(connection)

        let head = SIMD3<Double>(0, 0, 75), shift = SIMD3<Double>(8, -6, 12)
        // Baseline: three lesions, two measurable (20 and 12 mm).
        _ = try await client.recordStudy(
            Self.study(
                1, date: "20260101", head: head,
                lesions: [
                    Self.lesion(1, SIMD3(20, -15, 70), diameter: 20), Self.lesion(2, SIMD3(-35, 25, 90), diameter: 12),
                    Self.lesion(3, SIMD3(10, 40, 40), diameter: 6),
                ]))
        // Second examination, recorded first (out of order), head shifted: lesion 1 shrank to 12 mm,
        // lesion 2 shrank to 8 mm, lesion 3 vanished.
        _ = try await client.recordStudy(
            Self.study(
                2, date: "20260401", head: head + shift,
                lesions: [
                    Self.lesion(1, SIMD3(-35, 25, 90) + shift, diameter: 8), Self.lesion(2, SIMD3(21, -15, 70) + shift, diameter: 12),
                ]))
        // Third: lesion 1 regrew to 20 mm and a new measurable lesion appeared.
        let third = try await client.recordStudy(
            Self.study(
                3, date: "20260701", head: head,
                lesions: [
                    Self.lesion(1, SIMD3(20, -15, 71), diameter: 20), Self.lesion(2, SIMD3(-35, 25, 90), diameter: 8),
                    Self.lesion(3, SIMD3(-20, -40, 60), diameter: 14),
                ]))
        #expect(third.tracks == 4)

        let timeline = try await client.getTimeline(.with { $0.patientID = "FU-1" })
        #expect(timeline.studies.map(\.studyDate) == ["20260101", "20260401", "20260701"])
        #expect(timeline.patient.studies == 3)
        let byFirstSeen = Dictionary(grouping: timeline.tracks, by: \.firstSeenStudyInstanceUid)
        #expect(byFirstSeen["2.25.90001"]?.count == 3)
        #expect(byFirstSeen["2.25.90003"]?.count == 1)
        let big = try #require(timeline.tracks.first { $0.points.first?.longestDiameterMm == 20 })
        #expect(big.points.map(\.longestDiameterMm) == [20, 12, 20])
        #expect(big.status == "present" && big.target)
        #expect(timeline.tracks.filter { $0.status == "resolved" }.count == 1)
        #expect(timeline.tracks.filter { $0.status == "new" }.count == 1)
        // Baseline sum 32 mm; then 20 mm (−37.5 %: PR); then a new 14 mm lesion: PD.
        #expect(timeline.assessments.map(\.category) == ["BASELINE", "PR", "PD"])
        #expect(timeline.assessments[1].sumOfDiametersMm == 20)
        #expect(abs(timeline.assessments[1].changeFromBaseline - -0.375) < 1e-9)
        #expect(!timeline.assessments[0].hasChangeFromBaseline)

        // Re-recording a study replaces its lesions; listing answers from the same rows.
        let again = try await client.recordStudy(
            Self.study(3, date: "20260701", head: head, lesions: [Self.lesion(1, SIMD3(20, -15, 71), diameter: 19)]))
        #expect(again.replaced && again.lesions == 1)
        let lesions = try await client.listLesions(.with { $0.studyInstanceUid = "2.25.90003" })
        #expect(lesions.lesions.map(\.longestDiameterMm) == [19])
        #expect(lesions.study.lesions == 1)
        #expect(try await client.listPatients(.init()).patients.map(\.patientID) == ["FU-1"])
        #expect(try await client.listStudies(.with { $0.patientID = "FU-1" }).studies.count == 3)
        // The export: every study in date order with its lesions and their tracks, in one call.
        let export = try await client.export(.with { $0.patientID = "FU-1" })
        #expect(export.studies.map(\.study.studyInstanceUid) == ["2.25.90001", "2.25.90002", "2.25.90003"])
        #expect(export.studies.map(\.lesions.count) == export.studies.map { Int($0.study.lesions) })
        #expect(export.studies[2].lesions.map(\.longestDiameterMm) == [19])
        #expect(export.studies.allSatisfy { $0.lesions.allSatisfy { $0.trackID > 0 } })
        #expect(try await client.export(.init()).studies.count == 3)
        await #expect(throws: RPCError.self) { try await client.export(.with { $0.patientID = "NOBODY" }) }

        // Bad input and unknown names are errors with a status.
        await #expect(throws: RPCError.self) { try await client.recordStudy(.with { $0.studyInstanceUid = "2.25.1" }) }
        var duplicate = Self.study(
            4, date: "20260801", head: head, lesions: [Self.lesion(1, .zero, diameter: 5), Self.lesion(1, .zero, diameter: 6)])
        duplicate.headCentroidMm = [1, 2]
        do {
            _ = try await client.recordStudy(duplicate)
            Issue.record("a malformed record was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
        }
        do {
            _ = try await client.getTimeline(.with { $0.patientID = "NOBODY" })
            Issue.record("an unknown patient has a timeline")
        } catch let error as RPCError {
            #expect(error.code == .notFound)
        }

        // Deleting studies: the tracks are rebuilt; with the last one the patient goes too.
        #expect(try await client.deleteStudy(.with { $0.studyInstanceUid = "2.25.90002" }).deleted)
        #expect(try await client.getTimeline(.with { $0.patientID = "FU-1" }).studies.count == 2)
        _ = try await client.deleteStudy(.with { $0.studyInstanceUid = "2.25.90001" })
        let last = try await client.deleteStudy(.with { $0.studyInstanceUid = "2.25.90003" })
        #expect(last.patientRemoved)
        #expect(try await client.deleteStudy(.with { $0.studyInstanceUid = "2.25.90003" }).deleted == false)
        let statistics = try await client.getStatistics()
        #expect(statistics.patients == 0 && statistics.lesions == 0 && statistics.tracks == 0)

        await connection.close()
        server.shutdown()
        try await task.value
    }
}
