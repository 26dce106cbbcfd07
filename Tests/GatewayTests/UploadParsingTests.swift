import Foundation
import Hummingbird
import TestSupport
import Testing

@testable import Gateway

@Suite("Upload parsing: media types, multipart bodies, ZIP archives")
struct UploadParsingTests {
    @Test("media types keep quoted parameters; Accept lists sort by quality and drop q=0")
    func mediaTypes() throws {
        let type = try #require(MediaType(#"Multipart/Related; type="application/dicom"; boundary=abc"#))
        #expect(type.essence == "multipart/related")
        #expect(type.parameters == ["type": "application/dicom", "boundary": "abc"])
        let accept = MediaType.acceptList(
            #"application/dicom+xml;q=0.5, multipart/related; type="application/octet-stream"; transfer-syntax=*, text/html;q=0"#)
        #expect(accept.map(\.essence) == ["multipart/related", "application/dicom+xml"])
        #expect(accept[0].parameters["type"] == "application/octet-stream")
        #expect(MediaType("*/*")!.accepts("image/png"))
        #expect(MediaType("image/*")!.accepts("image/png"))
        #expect(!MediaType("image/jpeg")!.accepts("image/png"))
        #expect(MediaType("garbage") == nil)
    }

    @Test("a multipart body splits into its parts with their headers; preamble and epilogue are ignored")
    func multipart() throws {
        let body = Data(
            "preamble\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--b1\r\nContent-Disposition: form-data; name=\"f\"; filename=\"IM 2.dcm\"\r\n\r\nsec\r\n--ond\r\n--b1--\r\nepilogue"
                .utf8)
        let parts = try MultipartBody(body, boundary: "b1").parts
        #expect(parts.count == 2)
        #expect(parts[0].contentType?.essence == "application/dicom")
        #expect(parts[0].body == Data("first".utf8))
        #expect(parts[1].fileName == "IM 2.dcm")
        #expect(parts[1].body == Data("sec\r\n--ond".utf8))
    }

    @Test(
        "broken multipart bodies are refused, saying why",
        arguments: [
            ("--b1\r\nContent-Type: application/dicom\r\n\r\ncut here", "not closed"),
            ("no boundary at all", "no part starts"),
            ("--b1\r\nbroken header\r\n\r\nx\r\n--b1--", "malformed header"),
        ])
    func brokenMultipart(body: String, message: String) {
        #expect {
            _ = try MultipartBody(Data(body.utf8), boundary: "b1")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("ZIP entries, stored and deflated, come out byte-identical; directories are left out")
    func zipEntries() throws {
        let large = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let zip = ZipFixture.archive([("a/", Data(), false), ("a/IM1", Data("one".utf8), false), ("a/b/IM2", large, true)])
        let archive = try ZipArchive(zip)
        #expect(archive.entries.map(\.path) == ["a/IM1", "a/b/IM2"])
        #expect(archive.entries[1].data == large)
    }

    @Test("corrupt, truncated and oversized ZIP archives are refused")
    func brokenZips() {
        let zip = ZipFixture.archive([("IM1", Data(repeating: 9, count: 5000), true)])
        #expect(throws: ZipArchive.ReadError.self) { _ = try ZipArchive(zip.prefix(zip.count - 30)) }
        var corrupt = zip
        corrupt[40] ^= 0xFF
        #expect(throws: ZipArchive.ReadError.self) { _ = try ZipArchive(corrupt) }
        var limits = ZipArchive.Limits()
        limits.maximumTotalSize = 4000
        #expect { _ = try ZipArchive(zip, limits: limits) } throws: { "\($0)".contains("expands past") }
    }

    @Test("an upload becomes files: form parts, nested ZIPs, DICOMDIR and system files skipped, a bad ZIP rejected")
    func uploadContents() throws {
        let zip = ZipFixture.archive([
            ("EXPORT/IM1", Data("dicom-1".utf8), true), ("EXPORT/DICOMDIR", Data("index".utf8), false),
            ("__MACOSX/EXPORT/._IM1", Data("junk".utf8), false),
        ])
        var body = Data(
            "--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"scan.zip\"\r\nContent-Type: application/zip\r\n\r\n".utf8)
        body += zip
        body += Data("\r\n--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"IM9.dcm\"\r\n\r\ndicom-9\r\n".utf8)
        body += Data("--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        body += Data(
            "--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"bad.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\u{3}\u{4}broken\r\n--x--\r\n"
                .utf8)
        let contents = try UploadExtractor.contents(body: body, contentType: "multipart/form-data; boundary=x")
        #expect(contents.files.map(\.name) == ["scan.zip/EXPORT/IM1", "IM9.dcm"])
        #expect(contents.files[0].data == Data("dicom-1".utf8))
        #expect(contents.skipped.map(\.file) == ["scan.zip/EXPORT/DICOMDIR", "scan.zip/__MACOSX/EXPORT/._IM1"])
        #expect(contents.rejected.map(\.file) == ["bad.zip"])

        #expect(try UploadExtractor.contents(body: Data("x".utf8), contentType: "application/dicom").files.count == 1)
        #expect(try UploadExtractor.contents(body: zip, contentType: "application/zip").files.map(\.name) == ["body.zip/EXPORT/IM1"])
        #expect { _ = try UploadExtractor.contents(body: Data(), contentType: "text/plain") } throws: {
            ($0 as? HTTPError)?.status == .unsupportedMediaType
        }
        #expect { _ = try UploadExtractor.contents(body: Data(), contentType: nil) } throws: {
            ($0 as? HTTPError)?.status == .unsupportedMediaType
        }
    }
}
