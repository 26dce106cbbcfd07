import Foundation
import TestSupport
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

    static let scripts = fixtures.deletingLastPathComponent().appendingPathComponent("Scripts")
    static var hasPydicomCodecs: Bool { PythonModules.available("pydicom", "numpy", "pylibjpeg", "openjpeg", "jpeg_ls", "libjpeg") }

    @Test("--pixels decodes a JPEG 2000 frame and writes its raw samples")
    func pixels() async throws {
        let raw = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dump-\(UUID().uuidString).raw")
        defer { try? FileManager.default.removeItem(at: raw) }
        let result = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            ["dump", "--pixels", "--raw", raw.path, Self.fixtures.appendingPathComponent("codecs/j2k-lossless-16bit.dcm").path])
        #expect(result.status == 0)
        #expect(result.output.contains("pixels: JPEG 2000 Image Compression (Lossless Only)"))
        #expect(result.output.contains("frame 1: min"))
        #expect(try Data(contentsOf: raw).count == 64 * 48 * 2)
    }

    /// Every file shipped with pydicom and pydicom-data, the public corpus at hand: each pixel
    /// frame Metis decodes must equal pydicom's (lossless) or be within the codec's tolerance.
    @Test(
        "real public test files decode to pydicom's pixels",
        .enabled(if: hasPydicomCodecs || ProcessInfo.processInfo.environment["CI"] != nil))
    func publicCorpusPixels() async throws {
        let files = try await Self.pydicomTestFiles()
        try #require(files.count > 100, "pydicom's test files were not found")
        let reports = try await Self.check("pixel_check.py", files)
        let decoded = reports.filter { $0["status"] as? String == "match" }
        #expect(decoded.count >= 120, "only \(decoded.count) files decoded and matched")
        for report in reports where ["differs", "metis-failed"].contains(report["status"] as? String) {
            Issue.record("\(report["file"] ?? "?"): \(report["status"] ?? "?") \(report["error"] ?? report["max_difference"] ?? "")")
        }
        let syntaxes = Set(decoded.compactMap { $0["syntax"] as? String })
        for syntax in [
            "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5",
        ] {
            #expect(syntaxes.contains(syntax), "no \(syntax) file of the corpus matched")
        }
    }

    @Test(
        "real public character-set files decode to pydicom's text",
        .enabled(if: hasPydicomCodecs || ProcessInfo.processInfo.environment["CI"] != nil))
    func publicCorpusCharacterSets() async throws {
        let files = try await Self.pydicomTestFiles(folder: "charset_files")
        try #require(files.count >= 15, "pydicom's character-set files were not found")
        for report in try await Self.check("charset_check.py", files) where report["status"] as? String != "match" {
            Issue.record("\(report["file"] ?? "?"): \(report["differences"] ?? report["error"] ?? "")")
        }
    }

    private static func pydicomTestFiles(folder: String? = nil) async throws -> [String] {
        let program =
            folder.map {
                "import pydicom.data, glob, os; print('\\n'.join(sorted(glob.glob(os.path.join(os.path.dirname(pydicom.data.__file__), '\($0)', '*.dcm')))))"
            }
            ?? "from pydicom.data import get_testdata_files; print('\\n'.join(sorted(get_testdata_files('*'))))"
        let result = try await ToolProcess.run("python3", ["-c", program], standardError: .discarded)
        return result.text.split(separator: "\n").map(String.init).filter { !$0.hasSuffix("/dicomdirtests") }
    }

    private static func check(_ script: String, _ files: [String]) async throws -> [[String: Any]] {
        let result = try await ToolProcess.run(
            "python3", [scripts.appendingPathComponent(script).path, MetisProcesses.executable("metis").path] + files,
            standardError: .discarded)
        #expect(result.status == 0)
        return result.text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
