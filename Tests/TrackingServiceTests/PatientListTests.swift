import Foundation
import MetisProto
import SwiftProtobuf
import Testing

@testable import TrackingService

/// The patient list, which the service keeps between calls: pages, and that it
/// follows every change, including one made through another connection.
@Suite("patient list")
struct PatientListTests {
    static func study(patient: String, uid: String, date: String) -> Metis_V1_RecordStudyRequest {
        .with {
            $0.patientID = patient
            $0.patientName = "Name^\(patient)"
            $0.studyInstanceUid = uid
            $0.seriesInstanceUid = uid + ".1"
            $0.studyDate = date
            $0.engine = "classical"
        }
    }

    @Test("pages, counts and dates follow records, re-records under another PatientID and deletes from any connection")
    func followsChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-patients-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tracking.sqlite").path
        let service = try TrackingDatabase(path: path)
        let other = try TrackingDatabase(path: path)  // as another process on the same file

        for (index, patient) in ["P-C", "P-A", "P-B"].enumerated() {
            _ = try await service.record(
                try RecordedExamination(Self.study(patient: patient, uid: "2.25.70\(index)", date: "2026010\(index + 1)")))
        }
        var list = try await service.patients(limit: 0, offset: 0)
        #expect(list.total == 3)
        #expect(list.patients.map(\.patientID) == ["P-A", "P-B", "P-C"])
        let page = try await service.patients(limit: 2, offset: 1)
        #expect(page.total == 3 && page.patients.map(\.patientID) == ["P-B", "P-C"])
        #expect(try await service.patients(limit: 5, offset: 9).patients.isEmpty)
        // A caller holding the current revision gets no patients back, until something changes.
        let unchanged = try await service.patients(limit: 0, offset: 0, knownRevision: list.revision)
        #expect(unchanged.unchanged && unchanged.patients.isEmpty && unchanged.revision == list.revision && unchanged.total == 3)
        #expect(try await other.patients(limit: 0, offset: 0, knownRevision: list.revision).unchanged == false)

        // A second study of P-A, written through the other connection.
        _ = try await other.record(try RecordedExamination(Self.study(patient: "P-A", uid: "2.25.799", date: "20260301")))
        let before = list.revision
        list = try await service.patients(limit: 0, offset: 0, knownRevision: before)
        #expect(!list.unchanged && list.revision != before)
        let a = try #require(list.patients.first)
        #expect(a.studies == 2 && a.firstStudyDate == "20260102" && a.lastStudyDate == "20260301")

        // P-C's only study recorded again under P-B: P-C has nothing left and goes.
        let moved = try await other.record(try RecordedExamination(Self.study(patient: "P-B", uid: "2.25.700", date: "20260101")))
        #expect(moved.replaced)
        list = try await service.patients(limit: 0, offset: 0)
        #expect(list.patients.map(\.patientID) == ["P-A", "P-B"])
        #expect(list.patients.last?.studies == 2)
        #expect(list.total == 2)

        _ = try await other.deleteStudy("2.25.799")
        #expect(try await service.patients(limit: 0, offset: 0).patients.first?.studies == 1)
    }
}
