import Foundation
import Testing

/// `metis dump`, the administrator's outside view of the codec.
@Suite("metis dump")
struct DumpCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DICOMTests/Fixtures")

    @Test("lists elements like dcmdump, with nested items")
    func listing() async throws {
        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["dump", Self.fixtures.appendingPathComponent("explicit-le.dcm").path])
        #expect(result.status == 0)
        #expect(result.output.contains("(0010,0010) PN [Dupont^Hélène]"))
        #expect(result.output.contains("PatientName"))
        #expect(result.output.contains("    (0008,0104) LO [Encéphale]"))
        #expect(result.output.contains("(7FE0,0010) OW"))
    }

    @Test("--json prints DICOM JSON; --stop-before-pixels leaves out the pixel data")
    func json() async throws {
        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            ["dump", "--json", "--stop-before-pixels", Self.fixtures.appendingPathComponent("utf8.dcm").path])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [String: Any]])
        #expect(object["7FE00010"] == nil)
        let name = try #require((object["00100010"]?["Value"] as? [[String: String]])?.first)
        #expect(name["Ideographic"] == "山田^太郎")
    }

    @Test(
        "a broken file prints the typed error and exits 1", arguments: ["broken-nesting-bomb.dcm", "broken-not-dicom.dcm", "missing.dcm"])
    func broken(name: String) async throws {
        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["dump", Self.fixtures.appendingPathComponent(name).path])
        #expect(result.status == 1)
    }
}
