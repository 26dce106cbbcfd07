import Foundation
import MetisProto
import NIOCore
import SwiftProtobuf
import Testing

@testable import Gateway

/// The directly written patient list against the encoders it replaces.
@Suite("patient list JSON")
struct PatientListJSONTests {
    static let patients: [Metis_V1_TrackedPatient] = [
        .with {
            $0.key = 7
            $0.patientID = "ID \"quoted\" \\ back/slash"
            $0.patientName = "Dupré^Zoë\u{01}\n\ttab"
            $0.birthDate = "19610203"
            $0.sex = "F"
            $0.studies = 3
            $0.firstStudyDate = "20250101"
            $0.lastStudyDate = "20260101"
        },
        .with { $0.patientID = "ZERO" },
        .with {
            $0.key = Int64.max
            $0.patientID = "患者"
            $0.patientName = "山田^太郎"
            $0.studies = UInt32.max
        },
    ]

    @Test("the /api/v1 list is SwiftProtobuf's JSON mapping of the same message")
    func protobufMapping() throws {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        for list in [
            Metis_V1_PatientList.with {
                $0.patients = Self.patients
                $0.total = 12
            },
            Metis_V1_PatientList(), Metis_V1_PatientList.with { $0.total = 5 }, Metis_V1_PatientList.with { $0.patients = Self.patients },
        ] {
            let expected = try list.jsonString(options: options)
            let written = String(buffer: PatientListJSON.protobuf(list))
            #expect(try Self.object(written) == Self.object(expected), "\(written) vs \(expected)")
            #expect(try Metis_V1_PatientList(jsonString: written) == list)
        }
    }

    @Test("the original /followup-patients keys, with every key present")
    func originalKeys() throws {
        let written = String(buffer: PatientListJSON.original(Self.patients))
        let array = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [[String: Any]])
        #expect(array.count == 3)
        #expect(array[0]["idPatient"] as? Int == 7)
        #expect(array[0]["nom"] as? String == "Dupré^Zoë\u{01}\n\ttab")
        #expect(array[0]["dateNaissance"] as? String == "1961-02-03")
        #expect(array[0]["sexe"] as? String == "F")
        #expect(array[0]["patientID"] as? String == "ID \"quoted\" \\ back/slash")
        #expect(array[1].keys.sorted() == ["dateNaissance", "idPatient", "nom", "patientID", "sexe"])
        #expect(array[1]["idPatient"] as? Int == 0 && array[1]["nom"] as? String == "")
        #expect(array[2]["idPatient"] as? Int64 == Int64.max)
        #expect(String(buffer: PatientListJSON.original([])) == "[]")
    }

    static func object(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }
}
