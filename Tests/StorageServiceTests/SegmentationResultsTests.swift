import DICOM
import Foundation
import GRDB
import MetisProto
import SwiftProtobuf
import Testing

@testable import StorageService

@Suite("Segmentation results recorded by storage")
struct SegmentationResultsTests {
    static func rtstruct(sop: String, series: String, description: String) throws -> Data {
        var dataset = try DICOMReader.read(try makeInstance(sop: sop, study: "1.2.3.4", series: series)).dataset
        dataset[.modality] = .text(Tag.modality, .CS, "RTSTRUCT")
        dataset[.seriesDescription] = .text(Tag.seriesDescription, .LO, description)
        return try DICOMWriter.write(dataset)
    }

    func results(_ harness: StorageHarness) async throws -> [String] {
        try QueryTests.uids(
            await harness.client.query(
                .with {
                    $0.level = .series
                    $0.studyInstanceUid = "1.2.3.4"
                    $0.segmentationResultsOnly = true
                }), "0020000E")
    }

    @Test("only what was stored with a segmentation origin is a result, whatever the others are named")
    func origin() async throws {
        let harness = try await StorageHarness.start()
        _ = try await harness.client.storeInstance(.with { $0.dicom = try! makeInstance(sop: "1.2.3.4.1.1") })
        _ = try await harness.client.storeInstance(
            .with {
                $0.dicom = try! Self.rtstruct(sop: "1.2.3.4.8.1", series: "1.2.3.4.8", description: "Metis lesions (unetr, automatic)")
                $0.segmentationOrigin = .with {
                    $0.sourceSeriesInstanceUid = "1.2.3.4.1"
                    $0.engine = "unetr"
                }
            })
        // A clinician's edited copy under Metis's name, from a planning system: not a result.
        _ = try await harness.client.storeInstance(
            .with {
                $0.dicom = try! Self.rtstruct(sop: "1.2.3.4.9.1", series: "1.2.3.4.9", description: "Metis lesions (unetr, automatic)")
            })
        #expect(try await results(harness) == ["1.2.3.4.8"])
        let all = try QueryTests.uids(
            await harness.client.query(
                .with {
                    $0.level = .series
                    $0.studyInstanceUid = "1.2.3.4"
                }), "0020000E")
        #expect(Set(all) == ["1.2.3.4.1", "1.2.3.4.8", "1.2.3.4.9"])
        await #expect(throws: (any Error).self) {
            try await harness.client.query(
                .with {
                    $0.level = .study
                    $0.segmentationResultsOnly = true
                })
        }
        try await harness.stop()
    }

    @Test("an index from before results were recorded takes its 'Metis lesions' structure sets and segmentations as results")
    func migration() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-v4-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("index.sqlite").path
        do {
            let queue = try DatabaseQueue(path: path)
            try StorageIndex.migrator.migrate(queue, upTo: "v4-frame-layout")
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO patients (id, patient_id) VALUES (1, 'P1')")
                try db.execute(sql: "INSERT INTO studies (id, study_instance_uid, patient_id) VALUES (1, '1.2.3.4', 1)")
                for (uid, modality, description) in [
                    ("1.2.3.4.1", "MR", "Metis lesions are not MR"), ("1.2.3.4.8", "RTSTRUCT", "Metis lesions (unetr, automatic)"),
                    ("1.2.3.4.7", "SEG", "Metis lesions"), ("1.2.3.4.9", "RTSTRUCT", "Planning contours"),
                ] {
                    try db.execute(
                        sql: "INSERT INTO series (series_instance_uid, study_id, modality, series_description) VALUES (?, 1, ?, ?)",
                        arguments: [uid, modality, description])
                }
            }
        }
        let index = try StorageIndex(path: path)
        var query = StorageIndex.Query(level: .series)
        query.studyInstanceUID = "1.2.3.4"
        query.segmentationResultsOnly = true
        let matches = try await index.query(query)
        #expect(Set(matches.map { $0.path.components(separatedBy: "/").last ?? "" }) == ["1.2.3.4.7", "1.2.3.4.8"])
    }
}
