import Foundation
import Testing

@testable import DICOM

/// The hand-written JSON parser against Foundation's JSONDecoder, and against what it must refuse.
@Suite("JSON parser")
struct JSONParserTests {
    static let documents = [
        #"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎"}]},"00280010":{"vr":"US","Value":[512]}}"#,
        #"[1, -2, 3.25, 1e3, -0.5E-2, true, false, null, "", "a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00"]"#,
        #"  {"a": {"b": [[], {}, [[[]]]]}, "big": 9007199254740993, "tiny": 5e-324}  "#,
        #"{"00081190":{"vr":"UR","Value":["http://example.org/dicom-web/studies/1.2.3"]},"7FE00010":{"vr":"OW","BulkDataURI":"bulk:7FE00010"}}"#,
    ]

    @Test("parses what JSONDecoder parses, to the same values", arguments: documents)
    func sameAsFoundation(text: String) throws {
        let ours = try JSONValue.parse(Data(text.utf8))
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == foundation)
    }

    @Test(
        "refuses what is not JSON",
        arguments: [
            "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "\"unterminated", "tru", "01x", "[1] 2", "\"\\x\"", "\"\\ud800x\"", "\"a\u{01}b\"",
            "+1", String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ])
    func refusals(text: String) {
        #expect(throws: DICOMError.self) { try JSONValue.parse(Data(text.utf8)) }
    }
}
