import DICOM
import Foundation
import TestSupport
import Testing

@testable import Gateway

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The gateway's DICOM routes end to end: `metis up`, a 300-instance study
/// uploaded three ways, searched, retrieved and deleted over HTTP.
@Suite("DICOMweb and the original routes through metis up", .serialized)
struct DICOMwebTests {
    /// A running `metis up` on a temporary directory and a free port.
    final class Installation: @unchecked Sendable {
        let directory: URL
        let port: Int
        /// The DIMSE edge's port (AE title METIS).
        let dicomPort: Int
        let process: Process

        /// With `tokens`, the gateway asks for access tokens (create them with `token(role:)`); without, it binds loopback with `--auth none`.
        /// `directory` (whose `data` is the data directory) defaults to a new temporary one.
        /// `dicomPeers` is passed as `--dicom-peers`; every installation runs its DIMSE edge on a free port.
        init(
            maximumUpload: Int = 4 << 20, tokens: Bool = false, directory: URL? = nil, dicomPeers: String = "", arguments: [String] = []
        ) async throws {
            self.directory =
                directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("metis-web-\(UUID().uuidString.prefix(8))")
            port = try MetisProcesses.freePort()
            dicomPort = try MetisProcesses.freePort()
            process = Process()
            process.executableURL = MetisProcesses.executable("metis")
            process.arguments =
                [
                    "up", "--data", self.directory.appendingPathComponent("data").path, "--port", String(port),
                    "--max-upload-bytes", String(maximumUpload), "--log-level", "warning", "--auth", tokens ? "tokens" : "none",
                    "--dicom-port", String(dicomPort), "--dicom-peers", dicomPeers,
                ] + arguments
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Long enough for a debug build's services to start beside the whole suite on two cores.
            guard await MetisProcesses.waitForHealthy("http://127.0.0.1:\(port)/healthz", timeout: .seconds(180)) != nil else {
                stop()
                throw InstallationError(description: "metis up on port \(port) was not healthy within 180 s")
            }
        }

        var base: String { "http://127.0.0.1:\(port)" }

        struct InstallationError: Error, CustomStringConvertible {
            let description: String
        }

        /// A new access token, through `metis token create` (its output's last word).
        func token(role: String) async throws -> String {
            let result = try await MetisProcesses.run(
                MetisProcesses.executable("metis"),
                ["token", "create", "--role", role, "--data", directory.appendingPathComponent("data").path])
            guard result.status == 0, let token = result.output.split(whereSeparator: \.isWhitespace).last else {
                throw InstallationError(description: "metis token create exited with \(result.status): \(result.output)")
            }
            return String(token)
        }
        var web: String { base + "/dicom-web" }

        /// Stops `metis up` and, unless `keepingData`, removes the directory.
        /// Without `keepingData` it returns at once and a thread of its own
        /// waits for the exit: called from a test's `defer`, a blocking wait
        /// would hold one of the two threads every test shares for as long as
        /// the services take to drain, and starve the others.
        func stop(keepingData: Bool = false) {
            if process.isRunning { process.terminate() }
            guard !keepingData else {
                process.waitUntilExit()
                return
            }
            Thread { [self] in
                process.waitUntilExit()
                try? FileManager.default.removeItem(at: directory)
            }.start()
        }
    }

    static func parts(_ answer: HTTP.Answer) throws -> [MultipartBody.Part] {
        let type = try #require(MediaType(answer.headers["content-type"] ?? ""))
        return try MultipartBody(answer.body, boundary: type.parameters["boundary"] ?? "").parts
    }

    static func values(_ json: Any, _ tag: String) -> [String] {
        guard let objects = json as? [[String: Any]] else { return [] }
        return objects.map { object in
            let value = (object[tag] as? [String: Any])?["Value"] as? [Any]
            if let name = value?.first as? [String: String] { return name["Alphabetic"] ?? "" }
            return value?.first.map { "\($0)" } ?? ""
        }
    }

    @Test("upload by STOW-RS, form and ZIP; search every way; retrieve byte-identical; delete")
    func endToEnd() async throws {
        let metis = try await Installation()
        defer { metis.stop() }
        let mr = try MRStudy(
            study: "2.25.4242", patientID: "PAT-001", patientName: "Lefèvre^Anaïs", date: "20260312", series: 3, slices: 100)
        let other = try MRStudy(study: "2.25.777", patientID: "PAT-002", patientName: "Martin^Éric", date: "20250101", series: 1, slices: 2)
        let bySeries = Dictionary(grouping: mr.instances, by: \.series)
        let series = bySeries.keys.sorted()

        // STOW-RS: series 1 in one multipart/related request.
        let boundary = "stow-\(UUID().uuidString)"
        let stow = try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: [
                "Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)", "Accept": "application/dicom+json",
            ],
            body: HTTP.multipart(bySeries[series[0]]!.map { ("Content-Type: application/dicom", $0.bytes) }, boundary: boundary))
        #expect(stow.status == 200, "\(stow.text)")
        let stowed = try #require(try stow.json() as? [String: [String: Any]])
        #expect((stowed["00081199"]?["Value"] as? [Any])?.count == 100)
        #expect((stowed["00081190"]?["Value"] as? [String]) == ["\(metis.web)/studies/2.25.4242"])

        // The original route: series 2 as a multipart form, series 3 and the other study as a ZIP export.
        let form = try await HTTP.request(
            "POST", metis.base + "/uploadDicom", headers: ["Content-Type": "multipart/form-data; boundary=form-b"],
            body: HTTP.multipart(
                bySeries[series[1]]!.map {
                    ("Content-Disposition: form-data; name=\"files\"; filename=\"\($0.sop).dcm\"", $0.bytes)
                }, boundary: "form-b"))
        #expect(form.status == 200, "\(form.text)")
        let zip = ZipFixture.archive(
            (bySeries[series[2]]! + other.instances).enumerated().map {
                ("EXPORT/S\($0.offset / 100)/IM\($0.offset)", $0.element.bytes, $0.offset % 2 == 0)
            }
                + [("EXPORT/DICOMDIR", Data("index".utf8), false)])
        let zipped = try await HTTP.request("POST", metis.base + "/uploadDicom", headers: ["Content-Type": "application/zip"], body: zip)
        #expect(zipped.status == 200, "\(zipped.text)")
        let report = try #require(try zipped.json() as? [String: Any])
        #expect(report["stored"] as? Int == 102)
        #expect((report["skipped"] as? [[String: String]])?.first?["file"] == "body.zip/EXPORT/DICOMDIR")
        #expect((report["studies"] as? [[String: String]])?.count == 2)

        // QIDO-RS, as OHIF asks and beyond.
        func search(_ query: String) async throws -> Any {
            let answer = try await HTTP.request("GET", metis.web + query)
            #expect(answer.status == 200, "\(query): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/dicom+json")
            return try answer.json()
        }
        let ohif = try await search(
            "/studies?limit=101&offset=0&includefield=00081030%2C00080060%2C00080090%2C00100030&PatientName=*lef%C3%A8vre*")
        #expect(Self.values(ohif, "0020000D") == ["2.25.4242"])
        #expect(Self.values(ohif, "00100010") == ["Lefèvre^Anaïs"])
        #expect(Self.values(ohif, "00201208") == ["300"])
        #expect(Self.values(ohif, "00201206") == ["3"])
        #expect(Self.values(ohif, "00081030") == ["IRM cérébrale"])
        #expect(Self.values(try await search("/studies?PatientName=LEF*"), "0020000D") == ["2.25.4242"])  // case-insensitive
        #expect(Self.values(try await search("/studies?PatientName=anais&fuzzymatching=true"), "0020000D") == ["2.25.4242"])
        #expect(Self.values(try await search("/studies?StudyDate=20260101-"), "0020000D") == ["2.25.4242"])
        #expect(Self.values(try await search("/studies?StudyDate=-20251231"), "0020000D") == ["2.25.777"])
        #expect(Self.values(try await search("/studies?StudyInstanceUID=2.25.777,2.25.4242"), "0020000D").count == 2)
        #expect(Self.values(try await search("/studies?ModalitiesInStudy=MR&limit=1&offset=1"), "0020000D").count == 1)
        #expect(Self.values(try await search("/studies?PatientID=PAT-00?"), "0020000D").count == 2)
        let seriesFound = try await search("/studies/2.25.4242/series?includefield=0008103E%2C00080021")
        #expect(Self.values(seriesFound, "0020000E") == series)
        #expect(Self.values(seriesFound, "00201209") == ["100", "100", "100"])
        #expect(Self.values(seriesFound, "0008103E") == ["T1 gado", "FLAIR", "T2"])
        let instances = try await search("/studies/2.25.4242/series/\(series[0])/instances?limit=10&offset=5")
        #expect(Self.values(instances, "00200013") == (6...15).map(String.init))
        #expect(
            Self.values(try await search("/studies/2.25.4242/instances?SOPInstanceUID=\(series[2]).50"), "00080018") == ["\(series[2]).50"])

        // WADO-RS: one instance, a whole series, metadata with bulk data URIs, frames, a thumbnail.
        let first = bySeries[series[1]]![41]
        let single = try await HTTP.request("GET", metis.web + "/studies/2.25.4242/series/\(first.series)/instances/\(first.sop)")
        #expect(single.status == 200)
        #expect(try Self.parts(single).map(\.body) == [first.bytes])
        let whole = try await HTTP.request(
            "GET", metis.web + "/studies/2.25.4242/series/\(series[2])",
            headers: ["Accept": "multipart/related; type=\"application/dicom\""])
        #expect(try Self.parts(whole).map(\.body) == bySeries[series[2]]!.map(\.bytes))
        let metadata = try await search("/studies/2.25.4242/series/\(series[0])/metadata")
        #expect((metadata as? [Any])?.count == 100)
        let pixelsURI = try #require(((metadata as? [[String: [String: Any]]])?.first?["7FE00010"]?["BulkDataURI"]) as? String)
        #expect(pixelsURI.hasPrefix(metis.web + "/studies/2.25.4242/series/\(series[0])/instances/"))
        let bulk = try await HTTP.request("GET", pixelsURI)
        #expect(try Self.parts(bulk).first?.body == bySeries[series[0]]![0].pixels)
        let frames = try await HTTP.request(
            "GET", metis.web + "/studies/2.25.4242/series/\(first.series)/instances/\(first.sop)/frames/1",
            headers: ["Accept": "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"])
        #expect(frames.status == 200)
        #expect(try Self.parts(frames).map(\.body) == [first.pixels])
        let thumbnail = try await HTTP.request("GET", metis.web + "/studies/2.25.4242/series/\(series[0])/thumbnail")
        #expect(thumbnail.status == 200 && thumbnail.headers["content-type"] == "image/png")
        #expect(thumbnail.body.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        // The original routes: Orthanc-style identifiers.
        let all = try #require(try await HTTP.request("GET", metis.base + "/getAllStudies").json() as? [String])
        let id = OrthancIdentifier.study(patientID: "PAT-001", study: "2.25.4242")
        #expect(Set(all) == [id, OrthancIdentifier.study(patientID: "PAT-002", study: "2.25.777")])
        let study = try #require(try await HTTP.request("GET", metis.base + "/getStudy/\(id)").json() as? [String: Any])
        #expect((study["MainDicomTags"] as? [String: String])?["StudyInstanceUID"] == "2.25.4242")
        #expect((study["PatientMainDicomTags"] as? [String: String])?["PatientName"] == "Lefèvre^Anaïs")
        #expect((study["Series"] as? [String])?.count == 3)
        let dicoms = try #require(try await HTTP.request("GET", metis.base + "/getStudyDicoms/2.25.4242").json() as? [[String: Any]])
        #expect(dicoms.count == 300)
        #expect(study["NumberOfInstances"] as? Int == 300)
        #expect((study["ModalitiesInStudy"] as? [String])?.contains("MR") == true)
        let instance = try #require(dicoms.first { ($0["MainDicomTags"] as? [String: String])?["SOPInstanceUID"] == first.sop })
        #expect((instance["MainDicomTags"] as? [String: String])?["Rows"].flatMap { Int($0) } ?? 0 > 0)
        #expect(instance["IndexInSeries"] is Int)
        #expect(instance["RetrieveURL"] as? String == "/dicom-web/studies/2.25.4242/series/\(first.series)/instances/\(first.sop)")

        // Errors: each with its status and a JSON body that says why.
        func status(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Int {
            let answer = try await HTTP.request(method, metis.base + path, headers: headers, body: body)
            if answer.status >= 400 {
                let error = (try? answer.json() as? [String: [String: Any]])?["error"]
                #expect(error?["message"] as? String != nil, "\(path): \(answer.text)")
            }
            return answer.status
        }
        #expect(try await status("GET", "/dicom-web/studies?limit=-1") == 400)
        #expect(try await status("GET", "/dicom-web/studies?NotAnAttribute=1") == 400)
        #expect(try await status("GET", "/dicom-web/studies/2.25.9/metadata") == 404)
        #expect(try await status("GET", "/dicom-web/studies/2.25.4242/series/\(first.series)/instances/\(first.sop)/frames/2") == 400)
        #expect(try await status("GET", "/dicom-web/studies", headers: ["Accept": "application/dicom+xml"]) == 406)
        #expect(try await status("GET", "/dicom-web/studies/2.25.4242/thumbnail", headers: ["Accept": "image/gif"]) == 406)
        #expect(try await status("POST", "/dicom-web/studies", headers: ["Content-Type": "application/json"], body: Data("{}".utf8)) == 415)
        #expect(try await status("POST", "/uploadDicom", headers: ["Content-Type": "application/dicom"], body: Data(count: 5 << 20)) == 413)
        #expect(try await status("GET", "/getStudy/not-an-id") == 400)
        #expect(try await status("GET", "/getStudy/00000000-00000000-00000000-00000000-00000000") == 404)
        // STOW to a study URL refuses instances of another study (409), and a garbage part beside a good one is a 202.
        let mismatch = try await HTTP.request(
            "POST", metis.web + "/studies/2.25.1", headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=m"],
            body: HTTP.multipart([("Content-Type: application/dicom", first.bytes)], boundary: "m"))
        #expect(mismatch.status == 409)
        #expect(mismatch.text.contains("\"00081197\":{\"Value\":[272]"))
        let partial = try await HTTP.request(
            "POST", metis.web + "/studies", headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=p"],
            body: HTTP.multipart(
                [("Content-Type: application/dicom", first.bytes), ("Content-Type: application/dicom", Data("garbage".utf8))], boundary: "p"
            ))
        #expect(partial.status == 202)
        #expect(partial.text.contains("\"00081197\":{\"Value\":[49152]"))

        // CORS for a viewer on another origin.
        let preflight = try await HTTP.request(
            "OPTIONS", metis.web + "/studies", headers: ["Origin": "http://viewer.example", "Access-Control-Request-Method": "GET"])
        #expect(preflight.headers["access-control-allow-origin"] == "*")
        let cors = try await HTTP.request("GET", metis.web + "/studies", headers: ["Origin": "http://viewer.example"])
        #expect(cors.headers["access-control-allow-origin"] == "*")

        // Delete a series, then the study (original route), then the other study (DICOMweb).
        #expect(try await status("DELETE", "/dicom-web/studies/2.25.4242/series/\(series[0])") == 200)
        #expect(Self.values(try await search("/studies/2.25.4242/series"), "0020000E") == Array(series.dropFirst()))
        let deleted = try #require(try await HTTP.request("DELETE", metis.base + "/delete-study/2.25.4242").json() as? [String: Any])
        #expect(deleted["instancesDeleted"] as? Int == 200)
        #expect(try await status("DELETE", "/delete-study/2.25.4242") == 404)
        #expect(try await status("DELETE", "/dicom-web/studies/2.25.777") == 200)
        #expect((try await search("/studies") as? [Any])?.isEmpty == true)
    }

    static var hasDICOMwebClient: Bool { PythonModules.available("dicomweb_client", "pydicom") }

    @Test("dicomweb-client (PyPI), an independent client, stores, searches, retrieves and deletes", .enabled(if: hasDICOMwebClient))
    func dicomwebClient() async throws {
        let metis = try await Installation()
        defer { metis.stop() }
        let folder = metis.directory.appendingPathComponent("client")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let mr = try MRStudy(study: "2.25.5151", patientID: "PAT-DWC", patientName: "Gérard^Zoé", date: "20260401", series: 2, slices: 5)
        for instance in mr.instances { try instance.bytes.write(to: folder.appendingPathComponent(instance.sop + ".dcm")) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/dicomweb_client_check.py")
        let run = try await MetisProcesses.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, metis.web, folder.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("dicomweb-client: all checks passed"))
    }
}
