import DICOM
import Foundation
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Compressed studies through `metis up` as a user sends them: a phantom MR
/// series and its JPEG 2000 and JPEG Lossless twins (made by pydicom +
/// pylibjpeg-openjpeg and by dcmtk), stored by STOW, rendered, retrieved and
/// transcoded by WADO-RS, segmented with both engines; and the lenient-ingest
/// rules for files whose headers disagree.
@Suite("Compressed studies through metis up", .serialized)
struct CompressedStudyTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/compress_series.py")
    static var hasEncoders: Bool {
        PythonModules.available("pydicom", "openjpeg") && (try? ToolProcess.runBlocking("dcmcjpeg", ["--version"]))?.status == 0
    }

    struct Twins {
        var native: [Data]
        var j2k: [Data]
        var jpegLossless: [Data]
    }

    /// The phantom series, written natively and compressed twice by the peers.
    static func twins(_ phantom: BrainPhantom) async throws -> Twins {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-twins-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let nativeFolder = directory.appendingPathComponent("native")
        try FileManager.default.createDirectory(at: nativeFolder, withIntermediateDirectories: true)
        let native = try phantom.instances()
        var paths = [String]()
        for (index, data) in native.enumerated() {
            let url = nativeFolder.appendingPathComponent(String(format: "%04d.dcm", index))
            try data.write(to: url)
            paths.append(url.path)
        }
        func compressed(_ kind: String, _ suffix: String) async throws -> [Data] {
            let folder = directory.appendingPathComponent(kind)
            let result = try await ToolProcess.run("python3", [script.path, kind, suffix, folder.path] + paths)
            try #require(result.status == 0, "\(kind): \(result.text)")
            return try paths.indices.map { try Data(contentsOf: folder.appendingPathComponent(String(format: "%04d.dcm", $0))) }
        }
        return Twins(native: native, j2k: try await compressed("j2k", "91"), jpegLossless: try await compressed("jpeg-lossless", "92"))
    }

    static func stow(_ files: [Data], to metis: DICOMwebTests.Installation) async throws -> HTTP.Answer {
        let boundary = "twin-\(UUID().uuidString)"
        return try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: HTTP.multipart(files.map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
    }

    @Test(
        "JPEG 2000 and JPEG Lossless twins render, retrieve, transcode and segment as their native series",
        .enabled(if: hasEncoders || ProcessInfo.processInfo.environment["CI"] != nil))
    func compressedTwins() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        let phantom = BrainPhantom()
        let twins = try await Self.twins(phantom)
        let j2kFile = try DICOMReader.read(twins.j2k[0])
        #expect(j2kFile.transferSyntax.uid == "1.2.840.10008.1.2.4.90")
        #expect(try DICOMReader.read(twins.jpegLossless[0]).transferSyntax.uid == "1.2.840.10008.1.2.4.70")
        for files in [twins.native, twins.j2k, twins.jpegLossless] {
            let answer = try await Self.stow(files, to: metis)
            #expect(answer.status == 200, "\(answer.text.prefix(2000))")
        }
        let studies = [phantom.study, phantom.study + ".91", phantom.study + ".92"]
        let series = [phantom.series, phantom.series + ".91", phantom.series + ".92"]

        // Rendered frames and thumbnails are the same pixels whatever the syntax; OHIF's thumbnailDirect asks for JPEG.
        let middle = twins.native.count / 2
        let sop = try #require(try DICOMReader.read(twins.native[middle]).dataset.string(.sopInstanceUID))
        var rendered = [Data]()
        for (index, study) in studies.enumerated() {
            let suffix = ["", ".91", ".92"][index]
            let answer = try await HTTP.request(
                "GET", metis.web + "/studies/\(study)/series/\(series[index])/instances/\(sop + suffix)/rendered",
                headers: ["Accept": "image/png"])
            #expect(answer.status == 200 && answer.headers["content-type"] == "image/png", "\(index): \(answer.status) \(answer.text)")
            rendered.append(answer.body)
            let thumbnail = try await HTTP.request("GET", metis.web + "/studies/\(study)/thumbnail", headers: ["Accept": "image/jpeg"])
            #expect(thumbnail.status == 200 && thumbnail.headers["content-type"] == "image/jpeg")
            #expect(thumbnail.body.prefix(3) == Data([0xFF, 0xD8, 0xFF]))
        }
        #expect(rendered[1] == rendered[0] && rendered[2] == rendered[0], "compressed twins render differently")

        // WADO-RS: the stored bytes with transfer-syntax=*, Explicit VR Little Endian by default, JPEG-LS on request, 406 otherwise.
        let instanceURL = metis.web + "/studies/\(studies[1])/series/\(series[1])/instances/\(sop).91"
        func retrieve(_ accept: String) async throws -> HTTP.Answer {
            try await HTTP.request("GET", instanceURL, headers: ["Accept": accept])
        }
        let asStored = try await retrieve("multipart/related; type=\"application/dicom\"; transfer-syntax=*")
        #expect(asStored.status == 200, "\(asStored.text)")
        #expect(try DICOMwebTests.parts(asStored).first?.body == twins.j2k[middle])
        let byDefault = try await retrieve("multipart/related; type=\"application/dicom\"")
        let decodedPart = try #require(try DICOMwebTests.parts(byDefault).first)
        #expect(decodedPart.headers["content-type"]?.contains("transfer-syntax=1.2.840.10008.1.2.1") == true)
        let decoded = try DICOMReader.read(decodedPart.body)
        let native = try DICOMReader.read(twins.native[middle])
        #expect(decoded.transferSyntax == .explicitVRLittleEndian)
        #expect(
            Self.pixelBytes(decoded) != nil && Self.pixelBytes(decoded) == Self.pixelBytes(native),
            "decoded pixels differ from the native twin")
        let jls = try await retrieve("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.80")
        let jlsBody = try #require(try DICOMwebTests.parts(jls).first?.body)
        #expect(try DICOMReader.read(jlsBody).transferSyntax.uid == "1.2.840.10008.1.2.4.80")
        try await Self.checkWithDCMTK(jlsBody, tool: "dcmdjpls", equalsPixelsOf: native)
        let refused = try await retrieve("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.91")
        #expect(refused.status == 406)
        let message = (try? refused.json() as? [String: [String: Any]])?["error"]?["message"] as? String ?? ""
        #expect(message.contains("1.2.840.10008.1.2.1") && message.contains("1.2.840.10008.1.2.4.80"), "\(message)")

        // Frames: native bytes by default, the stored JPEG 2000 stream for image/jp2.
        let frameURL = instanceURL + "/frames/1"
        let frame = try await HTTP.request("GET", frameURL, headers: ["Accept": "multipart/related; type=\"application/octet-stream\""])
        let nativeFrame = try PixelData(native.dataset, transferSyntax: native.transferSyntax).frameBytes(0)
        #expect(try DICOMwebTests.parts(frame).first?.body == nativeFrame)
        let stream = try await HTTP.request("GET", frameURL, headers: ["Accept": "multipart/related; type=\"image/jp2\""])
        let streamPart = try #require(try DICOMwebTests.parts(stream).first)
        #expect(streamPart.headers["content-type"]?.hasPrefix("image/jp2") == true)
        #expect(streamPart.body.prefix(2) == Data([0xFF, 0x4F]))

        // Segmentation with both engines gives the native twin's lesions.
        for engine in ["classical", "unetr"] {
            var reports = [[[String: Any]]]()
            for study in studies {
                let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(study)?engine=\(engine)")
                #expect(answer.status == 200, "\(engine) on \(study): \(answer.text)")
                let report = try #require(try answer.json() as? [String: Any])
                #expect(report["lossyInput"] as? Bool == false, "lossless input flagged lossy")
                reports.append(try #require(report["lesions"] as? [[String: Any]]))
            }
            func summary(_ lesions: [[String: Any]]) -> [String] {
                lesions.map { lesion in
                    lesion.filter { !$0.key.lowercased().contains("uid") }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                        .joined(separator: ",")
                }
            }
            #expect(!reports[0].isEmpty)
            #expect(summary(reports[1]) == summary(reports[0]), "\(engine): JPEG 2000 twin differs")
            #expect(summary(reports[2]) == summary(reports[0]), "\(engine): JPEG Lossless twin differs")
        }
    }

    static func pixelBytes(_ file: DICOMFile) -> Data? {
        if case .bytes(let data)? = file.dataset[.pixelData]?.value { return data }
        return nil
    }

    /// dcmtk decompresses `file`; its pixel data must equal `native`'s.
    static func checkWithDCMTK(_ file: Data, tool: String, equalsPixelsOf native: DICOMFile) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dcmtk-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.dcm"), output = directory.appendingPathComponent("out.dcm")
        try file.write(to: input)
        let result = try await ToolProcess.run(tool, [input.path, output.path])
        try #require(result.status == 0, "\(tool): \(result.text)")
        let decompressed = try DICOMReader.read(contentsOf: output)
        #expect(pixelBytes(decompressed) != nil && pixelBytes(decompressed) == pixelBytes(native), "\(tool) decodes other pixels")
    }

    @Test("a meta header that disagrees is stored under the data set's UIDs with a warning; a series naming two studies is refused")
    func lenientIngest() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        defer { metis.stop() }
        var phantom = BrainPhantom()
        phantom.sliceOffsets = Array(phantom.sliceOffsets.prefix(3))
        let files = try phantom.instances()
        let first = try DICOMReader.read(files[0])
        let sop = try #require(first.dataset.string(.sopInstanceUID))

        // The meta header names another SOP Instance UID (as after some anonymisers): stored, with a warning, bytes as sent.
        let mismatched = try Self.replacingFirst(sop, with: Self.sibling(of: sop), in: files[0])
        let stored = try await Self.stow([mismatched], to: metis)
        #expect(stored.status == 202, "\(stored.text)")
        #expect(stored.headers["warning"]?.contains("Media Storage SOP Instance UID") == true, "\(stored.headers)")
        let back = try await HTTP.request(
            "GET", metis.web + "/studies/\(phantom.study)/series/\(phantom.series)/instances/\(sop)",
            headers: ["Accept": "multipart/related; type=\"application/dicom\"; transfer-syntax=*"])
        #expect(back.status == 200)
        #expect(try DICOMwebTests.parts(back).first?.body == mismatched)

        // Another instance of the same series naming another study: refused before anything is acknowledged.
        let otherStudy = Self.sibling(of: phantom.study)
        var dataset = try DICOMReader.read(files[1]).dataset
        dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, otherStudy)
        let conflicting = try DICOMWriter.write(dataset)
        let refused = try await Self.stow([conflicting], to: metis)
        #expect(refused.status == 409, "\(refused.text)")
        #expect(refused.text.contains("is stored in study \(phantom.study)"), "\(refused.text)")
        let missing = try await HTTP.request("GET", metis.web + "/studies/\(otherStudy)/metadata")
        #expect(missing.status == 404)
        let fine = try await Self.stow([files[2]], to: metis)
        #expect(fine.status == 200)
    }

    /// A UID of the same length that differs in its last digit.
    static func sibling(of uid: String) -> String {
        let last = uid.last!
        return String(uid.dropLast()) + (last == "9" ? "8" : String(Int(String(last))! + 1))
    }

    static func replacingFirst(_ text: String, with replacement: String, in data: Data) throws -> Data {
        let range = try #require(data.range(of: Data(text.utf8)))
        var copy = data
        copy.replaceSubrange(range, with: Data(replacement.utf8))
        return copy
    }
}
