import Foundation
import Hummingbird
import MetisProto
import Testing

@testable import Gateway

@Suite("DICOMweb request handling")
struct DICOMwebUnitTests {
    @Test("query strings are percent-decoded, + is a space")
    func queryDecoding() {
        let query = DICOMwebRequest.decodeQuery(
            "PatientName=Dupont%5EH%C3%A9l%C3%A8ne&StudyDescription=IRM+c%C3%A9r%C3%A9brale&includefield&limit=5")
        #expect(query.map(\.name) == ["PatientName", "StudyDescription", "includefield", "limit"])
        #expect(query[0].value == "Dupont^Hélène")
        #expect(query[1].value == "IRM cérébrale")
        #expect(query[2].value == "")
    }

    @Test("QIDO parameters: limit, offset, includefield (all), fuzzymatching, comma UID lists")
    func qidoParameters() throws {
        let query = try QIDORoutes.queryRequest(
            [
                ("limit", "25"), ("offset", "50"), ("includefield", "00081030,00080060"), ("includefield", "all"),
                ("fuzzymatching", "true"),
                ("StudyInstanceUID", "1.2,1.3"), ("PatientName", "dup*"),
            ], level: .study)
        #expect(query.limit == 25 && query.offset == 50)
        #expect(query.includeFields == ["00081030", "00080060"])
        #expect(query.includeAll && query.fuzzyMatching)
        #expect(query.match == ["StudyInstanceUID": "1.2\\1.3", "PatientName": "dup*"])
    }

    @Test(
        "bad QIDO parameters are 400",
        arguments: [
            ("limit", "-1"), ("offset", "x"), ("fuzzymatching", "yes"),
        ])
    func badParameters(name: String, value: String) {
        #expect { _ = try QIDORoutes.queryRequest([(name, value)], level: .study) } throws: { ($0 as? HTTPError)?.status == .badRequest }
    }

    @Test("Orthanc identifiers: SHA-1 of the joined UIDs in five groups")
    func orthancIdentifiers() {
        // Values computed by Orthanc 1.10.1 for the same UIDs (docs/api.md).
        let study = OrthancIdentifier.study(patientID: "BENCH", study: "1.2.826.0.1.3680043.8.498.2000")
        #expect(study == "d4d040c0-6c00f139-30d14ea9-b88636de-5170487c")
        #expect(OrthancIdentifier.patient("BENCH") == "185ddf19-fcef1db8-961d7984-d6584bf3-98f16bbb")
        let series = "1.2.826.0.1.3680043.8.498.2001"
        #expect(
            OrthancIdentifier.series(patientID: "BENCH", study: "1.2.826.0.1.3680043.8.498.2000", series: series)
                == "b0ed7410-adc74682-b6f865ed-50b90279-b78dc298")
        #expect(
            OrthancIdentifier.instance(
                patientID: "BENCH", study: "1.2.826.0.1.3680043.8.498.2000", series: series, instance: "1.2.826.0.1.3680043.8.498.2.1")
                == "23fe1b36-bcf8c78e-f888537f-492b6b89-c977ffa1")
        #expect(OrthancIdentifier.isIdentifier(study))
        #expect(!OrthancIdentifier.isIdentifier("1.2.826.0.1.3680043.8.498.2000"))
    }

    @Test("STOW responses: 200 all stored, 202 partial, 409 none, 503 when storage failed; failures carry their reasons")
    func stowResponse() throws {
        let stored = IngestPipeline.Outcome(
            file: "part 1", status: .stored, sopClassUID: "1.2.840.10008.5.1.4.1.1.4", sopInstanceUID: "1.2.3.1", studyInstanceUID: "1.2.3",
            seriesInstanceUID: "1.2.3.9")
        var failed = IngestPipeline.Outcome.refused("part 2", .cannotUnderstand, reason: "not DICOM")
        #expect(STOWRoutes.response([stored], root: "http://h/dicom-web", study: nil).status == .ok)
        let partial = STOWRoutes.response([stored, failed], root: "http://h/dicom-web", study: nil)
        #expect(partial.status == .accepted)
        #expect(STOWRoutes.response([failed], root: "http://h/dicom-web", study: nil).status == .conflict)
        failed.refusal = .unavailable
        #expect(STOWRoutes.response([failed], root: "http://h/dicom-web", study: nil).status == .serviceUnavailable)
    }
}
