import Foundation
import Testing

@testable import DICOM

@Suite("DICOM JSON")
struct DICOMJSONTests {
    /// pydicom writes big-endian binary values to JSON in file byte order; PS3.18 wants little endian, as Metis does.
    static let comparable = Fixtures.readable.filter { $0 != "explicit-be.dcm" }

    @Test("matches pydicom's Dataset.to_json_dict()", arguments: comparable)
    func matchesPydicom(name: String) throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url(name))
        let ours = DICOMJSON.encode(file.dataset)
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: Fixtures.url(name + ".dicom.json")))
        var differences = [String]()
        compare(ours, theirs, path: "", into: &differences)
        #expect(differences.isEmpty, "\(name): \(differences.prefix(5))")
    }

    @Test("decodes back to the same elements", arguments: comparable)
    func roundTrip(name: String) throws {
        let original = try DICOMReader.read(contentsOf: Fixtures.url(name)).dataset
        let decoded = try DICOMJSON.decode(DICOMJSON.data(original))
        // JSON carries IS and DS as numbers: "-120.0" comes back as "-120", the same number.
        func normalized(_ rows: [Fixtures.Row]) -> [Fixtures.Row] {
            rows.map { row in
                guard row.vr == "DS" || row.vr == "IS", case .texts(let texts) = row.value else { return row }
                var copy = row
                copy.value = .texts(texts.map { Double($0).map { String($0) } ?? $0 })
                return copy
            }
        }
        #expect(normalized(Fixtures.rows(of: decoded)) == normalized(Fixtures.rows(of: original)))
    }

    @Test("the JSON text is exactly what JSONEncoder writes (sorted keys, slashes unescaped)", arguments: comparable)
    func textMatchesJSONEncoder(name: String) throws {
        let json = DICOMJSON.encode(try DICOMReader.read(contentsOf: Fixtures.url(name)).dataset)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(json.jsonText == String(decoding: try encoder.encode(json), as: UTF8.self))
        let awkward = JSONValue.object([
            "b": .array([.number(1.5), .number(2), .number(-0.25), .integer(-7), .null, .bool(true)]),
            "a": .string("quote \" backslash \\ newline \n tab \t bell \u{07} slash / é 日本"),
        ])
        #expect(awkward.jsonText == String(decoding: try encoder.encode(awkward), as: UTF8.self))
    }

    @Test("bulk data goes by URI when the provider gives one")
    func bulkData() throws {
        let dataset = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        let json = DICOMJSON.encode(dataset) { element, path in
            element.tag == .pixelData ? "https://metis.example/bulk/\(path)" : nil
        }
        guard case .object(let top) = json, case .object(let pixels)? = top["7FE00010"] else {
            Issue.record("no pixel data")
            return
        }
        #expect(pixels["BulkDataURI"] == .string("https://metis.example/bulk/7FE00010"))
        #expect(pixels["InlineBinary"] == nil)
        let decoded = try DICOMJSON.decode(json) { uri in
            #expect(uri.hasSuffix("7FE00010"))
            return dataset[.pixelData]!.bytes
        }
        #expect(decoded[.pixelData]?.bytes == dataset[.pixelData]?.bytes)
    }

    @Test(
        "malformed JSON is refused with a typed error",
        arguments: [
            "[]", #"{"0010":{"vr":"PN"}}"#, #"{"00100010":{"vr":"XX"}}"#, #"{"00280010":{"vr":"US","Value":["sixteen"]}}"#,
            #"{"7FE00010":{"vr":"OW","InlineBinary":"%%%"}}"#, "not json",
        ])
    func malformed(text: String) {
        #expect(throws: DICOMError.self) { try DICOMJSON.decode(Data(text.utf8)) }
    }

    private func compare(_ ours: JSONValue, _ theirs: JSONValue, path: String, into differences: inout [String]) {
        switch (ours, theirs) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys) {
                guard let left = a[key], let right = b[key] else {
                    differences.append("\(path)/\(key): only in \(a[key] == nil ? "pydicom" : "Metis")")
                    continue
                }
                compare(left, right, path: path + "/" + key, into: &differences)
            }
        case (.array(let a), .array(let b)):
            guard a.count == b.count else {
                differences.append("\(path): \(a.count) values vs \(b.count)")
                return
            }
            for (index, (left, right)) in zip(a, b).enumerated() { compare(left, right, path: "\(path)[\(index)]", into: &differences) }
        default:
            if let left = ours.doubleValue, let right = theirs.doubleValue {
                if left != right { differences.append("\(path): \(left) vs \(right)") }
            } else if ours != theirs {
                differences.append("\(path): \(ours) vs \(theirs)")
            }
        }
    }
}
