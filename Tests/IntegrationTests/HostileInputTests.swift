import Foundation
import TestSupport
import Testing

/// Hostile input through a running `metis up` (tokens on): every request is
/// refused with a 4xx and a JSON error, and the system keeps serving the
/// study it held, unchanged.
@Suite("Hostile input through the gateway", .serialized)
struct HostileInputTests {
    @Test(
        "truncated, oversized and non-DICOM uploads, ZIP bombs and traversal names, broken multipart, SQL in every QIDO key, huge queries, wrong types and tokens"
    )
    func refused() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 8 << 20, tokens: true)
        defer { metis.stop() }
        let token = try await metis.token(role: "admin")
        let viewer = try await metis.token(role: "viewer")
        let auth = ["Authorization": "Bearer \(token)"]
        var phantom = BrainPhantom()
        phantom.study = "2.25.87001"
        phantom.series = "2.25.87001.1"
        phantom.sliceOffsets = (0..<4).map { Double($0) * 2.5 }
        let instances = try phantom.instances()
        let stowType = { (boundary: String) in ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"] }
        let good = try await HTTP.request(
            "POST", metis.web + "/studies", headers: auth.merging(stowType("g")) { $1 },
            body: HTTP.multipart(instances.map { ("Content-Type: application/dicom", $0) }, boundary: "g"))
        #expect(good.status == 200)

        var refusals = [(String, HTTP.Answer)]()
        func send(_ label: String, _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil, token: Bool = true)
            async throws
        {
            let answer = try await HTTP.request(
                method, metis.base + path, headers: (token ? auth : [:]).merging(headers) { $1 }, body: body)
            refusals.append((label, answer))
        }

        // DICOM that is not.
        let truncated = instances[0].prefix(instances[0].count / 3)
        try await send(
            "truncated STOW", "POST", "/dicom-web/studies", headers: stowType("t"),
            body: HTTP.multipart([("Content-Type: application/dicom", Data(truncated))], boundary: "t"))
        try await send("truncated upload", "POST", "/uploadDicom", headers: ["Content-Type": "application/dicom"], body: Data(truncated))
        try await send(
            "text as DICOM", "POST", "/uploadDicom", headers: ["Content-Type": "application/dicom"], body: Data("DICM? no.".utf8))
        try await send("oversized body", "POST", "/uploadDicom", headers: ["Content-Type": "application/dicom"], body: Data(count: 9 << 20))

        // Archives.
        let archives = FileManager.default.temporaryDirectory.appendingPathComponent("metis-hostile-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: archives) }
        try FileManager.default.createDirectory(at: archives, withIntermediateDirectories: true)
        try instances[0].write(to: archives.appendingPathComponent("one.dcm"))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Browser/hostile_archives.py")
        let made = try await MetisProcesses.run(
            URL(fileURLWithPath: "/usr/bin/python3"), [script.path, archives.appendingPathComponent("one.dcm").path, archives.path])
        #expect(made.status == 0, "\(made.output)")
        for name in ["traversal", "oversized", "lying", "truncated"] {
            try await send(
                "\(name).zip", "POST", "/uploadDicom", headers: ["Content-Type": "application/zip"],
                body: try Data(contentsOf: archives.appendingPathComponent("\(name).zip")))
        }

        // Multipart.
        try await send(
            "no boundary", "POST", "/dicom-web/studies", headers: ["Content-Type": "multipart/related; type=\"application/dicom\""],
            body: instances[0])
        try await send(
            "wrong boundary", "POST", "/dicom-web/studies", headers: stowType("expected"),
            body: HTTP.multipart([("Content-Type: application/dicom", instances[0])], boundary: "other"))
        try await send(
            "unterminated form", "POST", "/uploadDicom", headers: ["Content-Type": "multipart/form-data; boundary=f"],
            body: Data("--f\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.dcm\"\r\n\r\n".utf8) + instances[0])

        // Queries.
        let injections = [
            "' OR '1'='1", "\"; DROP TABLE studies; --", "*' UNION SELECT sqlite_version() --", "%' OR 1=1 --", "\\\\'", "20200101'--",
        ]
        var allowedEmpty = 0
        for key in [
            "PatientName", "PatientID", "StudyDate", "StudyInstanceUID", "AccessionNumber", "StudyDescription", "ModalitiesInStudy",
            "limit", "offset", "includefield",
        ] {
            for value in injections {
                let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let answer = try await HTTP.request("GET", metis.web + "/studies?\(key)=\(encoded)", headers: auth)
                // A string key may simply match nothing; what is not a valid value is a 400. Never the whole list, never a 5xx.
                if answer.status == 200 {
                    #expect((try answer.json() as? [Any])?.isEmpty == true, "\(key)=\(value) matched: \(answer.text)")
                    allowedEmpty += 1
                } else {
                    #expect(answer.status == 400, "\(key)=\(value): \(answer.status) \(answer.text)")
                }
            }
        }
        #expect(allowedEmpty > 0)
        try await send("huge query", "GET", "/dicom-web/studies?PatientName=" + String(repeating: "A", count: 40_000))
        try await send("unknown key", "GET", "/dicom-web/studies?NotAKey=1")
        try await send("negative limit", "GET", "/dicom-web/studies?limit=-1")

        // Types and tokens.
        try await send("text/plain STOW", "POST", "/dicom-web/studies", headers: ["Content-Type": "text/plain"], body: Data("x".utf8))
        try await send("JSON upload", "POST", "/uploadDicom", headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
        try await send("XML only", "GET", "/dicom-web/studies", headers: ["Accept": "application/dicom+xml"])
        try await send("no token", "GET", "/dicom-web/studies", token: false)
        try await send("forged token", "GET", "/dicom-web/studies", headers: ["Authorization": "Bearer metis_forged"], token: false)
        try await send(
            "viewer deletes", "DELETE", "/dicom-web/studies/\(phantom.study)", headers: ["Authorization": "Bearer \(viewer)"], token: false)
        try await send("malformed header", "GET", "/dicom-web/studies", headers: ["Authorization": "Basic Zm9vOmJhcg=="], token: false)

        for (label, answer) in refusals {
            #expect((400..<500).contains(answer.status), "\(label): \(answer.status) \(answer.text.prefix(300))")
            #expect(answer.headers["content-type"]?.contains("json") == true, "\(label): the error is JSON")
        }
        // Still serving the same study, nothing added.
        #expect(try await HTTP.request("GET", metis.base + "/healthz").status == 200)
        let studies = try await HTTP.request("GET", metis.web + "/studies", headers: auth)
        #expect(DICOMwebTests.values(try studies.json(), "0020000D") == [phantom.study])
        #expect(DICOMwebTests.values(try studies.json(), "00201208") == [String(instances.count)])
    }
}
