import DICOM
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

@testable import StorageService

@Suite("Querying the index")
struct QueryTests {
    /// Three studies of two patients, with dates, modalities and several series.
    static func populated() async throws -> StorageHarness {
        let harness = try await StorageHarness.start()
        let studies: [(study: String, patient: String, name: String, date: String, series: [(String, String)])] = [
            ("1.1", "P1", "Dupont^Hélène", "20250110", [("1.1.1", "MR"), ("1.1.2", "MR")]),
            ("1.2", "P1", "Dupont^Hélène", "20250610", [("1.2.1", "MR"), ("1.2.2", "RTSTRUCT")]),
            ("1.3", "P2", "Martin^Éric", "20260101", [("1.3.1", "CT")]),
        ]
        for study in studies {
            for (seriesUID, modality) in study.series {
                for instance in 1...2 {
                    var dataset = try DICOMReader.read(
                        try makeInstance(
                            sop: "\(seriesUID).\(instance)", study: study.study, series: seriesUID, patient: study.patient, name: study.name
                        )
                    ).dataset
                    dataset[.modality] = .text(Tag.modality, .CS, modality)
                    dataset[.studyDate] = .text(Tag.studyDate, .DA, study.date)
                    dataset[.instanceNumber] = .text(Tag.instanceNumber, .IS, String(instance))
                    _ = try await harness.client.storeInstance(.with { $0.dicom = try! DICOMWriter.write(dataset) })
                }
            }
        }
        return harness
    }

    static func uids(_ response: Metis_V1_QueryResponse, _ key: String) throws -> [String] {
        try response.matches.map { match in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(match.dicomJson.utf8)) as? [String: [String: Any]])
            return (object[key]?["Value"] as? [String])?.first ?? ""
        }
    }

    func studies(_ harness: StorageHarness, _ match: [String: String], limit: UInt32 = 0, offset: UInt32 = 0) async throws -> [String] {
        try Self.uids(
            await harness.client.query(
                .with {
                    $0.level = .study
                    $0.match = match
                    $0.limit = limit
                    $0.offset = offset
                }), "0020000D")
    }

    @Test("study matching: exact, wildcards, case-insensitive names, UID lists, date ranges, modalities, paging")
    func studyMatching() async throws {
        let harness = try await Self.populated()
        #expect(try await studies(harness, [:]) == ["1.1", "1.2", "1.3"])
        #expect(try await studies(harness, ["PatientID": "P1"]) == ["1.1", "1.2"])
        #expect(try await studies(harness, ["PatientName": "dupont*"]) == ["1.1", "1.2"])
        #expect(try await studies(harness, ["00100010": "MARTIN^ÉRIC"]) == ["1.3"], "tags as keys; Latin letters fold")
        #expect(try await studies(harness, ["PatientName": "Mart?n*"]) == ["1.3"])
        #expect(try await studies(harness, ["StudyInstanceUID": "1.3\\1.1"]) == ["1.1", "1.3"])
        #expect(try await studies(harness, ["StudyDate": "20250101-20251231"]) == ["1.1", "1.2"])
        #expect(try await studies(harness, ["StudyDate": "20250601-"]) == ["1.2", "1.3"])
        #expect(try await studies(harness, ["StudyDate": "-20250110"]) == ["1.1"])
        #expect(try await studies(harness, ["ModalitiesInStudy": "RTSTRUCT"]) == ["1.2"])
        #expect(try await studies(harness, ["ModalitiesInStudy": "MR"]) == ["1.1", "1.2"])
        #expect(try await studies(harness, ["PatientID": "*"]) == ["1.1", "1.2", "1.3"], "universal matching")
        #expect(try await studies(harness, [:], limit: 1, offset: 1) == ["1.2"])
        #expect(try await studies(harness, [:], offset: 2) == ["1.3"])
        try await harness.stop()
    }

    @Test("study results carry the attributes and the related series and instance counts")
    func studyAttributes() async throws {
        let harness = try await Self.populated()
        let response = try await harness.client.query(
            .with {
                $0.level = .study; $0.match = ["StudyInstanceUID": "1.2"]
            })
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(response.matches[0].dicomJson.utf8)) as? [String: [String: Any]])
        #expect((object["00100010"]?["Value"] as? [[String: String]])?.first?["Alphabetic"] == "Dupont^Hélène")
        #expect((object["00080061"]?["Value"] as? [String]) == ["MR", "RTSTRUCT"])
        #expect((object["00201206"]?["Value"] as? [Int]) == [2])
        #expect((object["00201208"]?["Value"] as? [Int]) == [4])
        #expect(object["00080020"]?["vr"] as? String == "DA")
        try await harness.stop()
    }

    @Test("series and instance levels, scoped to a study or series")
    func lowerLevels() async throws {
        let harness = try await Self.populated()
        let series = try await harness.client.query(
            .with {
                $0.level = .series; $0.studyInstanceUid = "1.2"
            })
        #expect(try Self.uids(series, "0020000E") == ["1.2.1", "1.2.2"])
        let rtstruct = try await harness.client.query(
            .with {
                $0.level = .series; $0.match = ["Modality": "RTSTRUCT"]
            })
        #expect(try Self.uids(rtstruct, "0020000E") == ["1.2.2"])
        let instances = try await harness.client.query(
            .with {
                $0.level = .instance; $0.seriesInstanceUid = "1.1.2"
            })
        #expect(try Self.uids(instances, "00080018") == ["1.1.2.1", "1.1.2.2"])
        let second = try await harness.client.query(
            .with {
                $0.level = .instance; $0.studyInstanceUid = "1.1"; $0.match = ["InstanceNumber": "2"]
            })
        #expect(try Self.uids(second, "00080018") == ["1.1.1.2", "1.1.2.2"])
        try await harness.stop()
    }

    @Test(
        "bad queries are INVALID_ARGUMENT",
        arguments: [
            ["StudyDate": "2025-01-01"], ["StudyDate": "-"], ["StudyInstanceUID": "1.2.x"], ["InstanceNumber": "two"],
            ["NoSuchAttribute": "x"], ["SOPInstanceUID": "1.2"],
        ])
    func badQueries(match: [String: String]) async throws {
        let harness = try await StorageHarness.start()
        do {
            _ = try await harness.client.query(
                .with {
                    $0.level = .study; $0.match = match
                })
            Issue.record("accepted \(match)")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
        }
        try await harness.stop()
    }
}
