import Foundation
import TestSupport
import Testing

@testable import Gateway

/// `metis backup` while Metis runs, then `metis restore` into a new data
/// directory that a new `metis up` serves: the same instances, byte for byte,
/// the same follow-up.
@Suite("Backup and restore", .serialized)
struct BackupTests {
    @Test("a backup taken while running restores to the same studies, bytes and follow-up; bad targets are refused")
    func backupRestore() async throws {
        let metis = try await DICOMwebTests.Installation(maximumUpload: 64 << 20)
        var phantom = BrainPhantom()
        phantom.study = "2.25.86001"
        phantom.series = "2.25.86001.1"
        phantom.sliceOffsets = (0..<24).map { Double($0) * 2.5 }
        let instances = try phantom.instances()
        let boundary = "b-\(UUID().uuidString)"
        let stow = try await HTTP.request(
            "POST", metis.web + "/studies",
            headers: ["Content-Type": "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"],
            body: HTTP.multipart(instances.map { ("Content-Type: application/dicom", $0) }, boundary: boundary))
        #expect(stow.status == 200)
        #expect(try await HTTP.request("POST", metis.base + "/segmentation/\(phantom.study)?engine=classical").status == 200)
        let timeline = try await HTTP.request("GET", metis.base + "/api/v1/patients/PHANTOM-1/timeline").text

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("metis-backup-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let backup = scratch.appendingPathComponent("backup")
        let metisExecutable = MetisProcesses.executable("metis")
        let data = metis.directory.appendingPathComponent("data").path
        let made = try await MetisProcesses.run(metisExecutable, ["backup", "--data", data, backup.path])
        #expect(made.status == 0 && made.output.contains("backed up \(instances.count + 1) instances"), "\(made.output)")
        #expect(
            try await MetisProcesses.run(metisExecutable, ["backup", "--data", data, backup.path]).status != 0,
            "an existing directory is refused")
        #expect(
            try await MetisProcesses.run(metisExecutable, ["restore", "--data", data, backup.path]).status != 0,
            "a data directory in use is refused")
        metis.stop()

        let restoredDirectory = scratch.appendingPathComponent("restored")
        let restored = try await MetisProcesses.run(
            metisExecutable, ["restore", "--data", restoredDirectory.appendingPathComponent("data").path, backup.path])
        #expect(restored.status == 0, "\(restored.output)")
        let again = try await DICOMwebTests.Installation(maximumUpload: 64 << 20, directory: restoredDirectory)
        defer { again.stop() }
        let series = try await HTTP.request("GET", again.web + "/studies/\(phantom.study)/series")
        #expect(DICOMwebTests.values(try series.json(), "00080060").sorted() == ["MR", "RTSTRUCT"])
        let parts = try DICOMwebTests.parts(try await HTTP.request("GET", again.web + "/studies/\(phantom.study)/series/\(phantom.series)"))
        #expect(Set(parts.map(\.body)) == Set(instances), "every instance comes back byte for byte")
        #expect(try await HTTP.request("GET", again.base + "/api/v1/patients/PHANTOM-1/timeline").text == timeline)
    }
}
