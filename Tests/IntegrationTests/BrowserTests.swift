import Foundation
import TestSupport
import Testing

/// The web application in a real browser (Debian's chromium and chromium-driver,
/// driven by Selenium from `Tests/Browser/web_app_test.py`): sign-in, upload, viewer,
/// Segment, lesion table against the API, delete through the dialog, the
/// follow-up chart of a patient with three studies. Screenshots go to
/// `.build/test-artefacts/browser/`. Runs wherever the browser is installed,
/// and always in CI (where `deploy/test` installs it), so that it cannot pass
/// by being skipped there.
@Suite("Web application in Chromium", .serialized)
struct BrowserTests {
    static var browserInstalled: Bool {
        ["/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
            && PythonModules.available("selenium", interpreter: "/usr/bin/python3")
    }

    static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    @Test(
        "sign in, upload, view, segment, lesion table, delete, follow-up chart; no JavaScript error",
        .enabled(if: required || browserInstalled))
    func webApplication() async throws {
        let metis = try await DICOMwebTests.Installation(
            maximumUpload: 256 << 20, tokens: true, dicomPeers: "MRI1@127.0.0.1:104/store",
            arguments: ["--arrival-rules", "calling_ae=MRI1 -> segment", "--series-stable-seconds", "1"])
        defer { metis.stop() }
        let token = try await metis.token(role: "admin")
        let authorization = ["Authorization": "Bearer \(token)"]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let artefacts = root.appendingPathComponent(".build/test-artefacts/browser")
        try? FileManager.default.removeItem(at: artefacts)
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)

        // One patient's three examinations (as in the follow-up test) and a study to delete.
        let (baseline, first, second) = BrainPhantom.threeExaminations(studyPrefix: "2.25.8300")
        var unwanted = BrainPhantom()
        unwanted.study = "2.25.83009"
        unwanted.series = "2.25.83009.1"
        unwanted.patientName = "Supprimer^Moi"
        unwanted.sliceOffsets = (0..<8).map { Double($0) * 2.5 }

        // The first follow-up comes from the scanner over DICOM and is segmented by its arrival rule; the second
        // and the study to delete go in through the API; the baseline through the browser.
        let scanner = try DIMSEEdgeTests.write(try first.instances(), to: artefacts.appendingPathComponent("scanner"))
        let sent = try await DIMSEEdgeTests.dcmtk(
            "storescu", ["-aet", "MRI1", "-aec", "METIS", "127.0.0.1", String(metis.dicomPort)] + scanner)
        #expect(sent.status == 0, "\(sent.text)")
        for phantom in [second, unwanted] {
            let boundary = "b-\(UUID().uuidString)"
            let stow = try await HTTP.request(
                "POST", metis.web + "/studies",
                headers: authorization.merging(["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"]) {
                    $1
                },
                body: HTTP.multipart(try phantom.instances().map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
            #expect(stow.status == 200)
        }
        let answer = try await HTTP.request("POST", metis.base + "/segmentation/\(second.study)", headers: authorization)
        #expect(answer.status == 200, "\(answer.text)")
        let deadline = ContinuousClock.now + .seconds(120)
        var automatic = ""
        while ContinuousClock.now < deadline, automatic != "succeeded" && automatic != "failed" {
            try await Task.sleep(for: .milliseconds(250))
            let arrivals = try await HTTP.request("GET", metis.base + "/api/v1/arrivals?study=\(first.study)", headers: authorization)
            automatic = ((try? arrivals.json() as? [String: Any])?["studies"] as? [[String: Any]])?.first?["automatic"] as? String ?? ""
        }
        #expect(automatic == "succeeded", "the arrival rule segmented the first follow-up")
        let upload = artefacts.appendingPathComponent("upload")
        try FileManager.default.createDirectory(at: upload, withIntermediateDirectories: true)
        // The baseline goes in as JPEG 2000 (compressed by pydicom + pylibjpeg-openjpeg), as archives send MR:
        // the viewer shows it and Segment runs on it.
        let native = artefacts.appendingPathComponent("native")
        try FileManager.default.createDirectory(at: native, withIntermediateDirectories: true)
        var nativePaths = [String]()
        for (index, instance) in try baseline.instances().enumerated() {
            let url = native.appendingPathComponent(String(format: "IM%04d.dcm", index + 1))
            try instance.write(to: url)
            nativePaths.append(url.path)
        }
        let compress = try await ToolProcess.run(
            "python3", [CompressedStudyTests.script.path, "j2k", "-", upload.path] + nativePaths, standardError: .merged)
        #expect(compress.status == 0, "\(compress.text)")
        try Data("not a DICOM file\n".utf8).write(to: upload.appendingPathComponent("notes.txt"))

        let (status, output) = try await MetisProcesses.run(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                root.appendingPathComponent("Tests/Browser/web_app_test.py").path, "--base", metis.base, "--upload", upload.path,
                "--artefacts", artefacts.path, "--token", token, "--study", baseline.study, "--delete", unwanted.study, "--patient",
                "PHANTOM-1", "--automatic", first.study,
            ])
        #expect(status == 0, "\(output)")
    }
}
