import DICOM
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

/// metis-storage on a small tmpfs: when the disk fills up, and when it turns
/// read-only, stores fail with the reason, nothing acknowledged is lost or
/// damaged, nothing half-written stays, reads go on, and stores work again
/// once space is freed. Needs root (to mount); runs wherever it is root, and
/// always in CI.
@Suite("metis-storage on a full or read-only disk", .serialized)
struct DiskFullTests {
    static var canMount: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") }

    static func instance(_ index: Int, study: String) throws -> Data {
        var dataset = Dataset()
        dataset[.sopClassUID] = .text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
        dataset[.sopInstanceUID] = .text(.sopInstanceUID, .UI, "\(study).\(index)")
        dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, study)
        dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, "\(study).0")
        dataset[.patientID] = .text(.patientID, .LO, "FULL")
        dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OB, value: .bytes(Data(repeating: UInt8(index % 251), count: 384 * 1024)))
        return try DICOMWriter.write(dataset)
    }

    @Test(
        "ENOSPC and EROFS are clear errors; acknowledged data stays intact; freeing space restores service",
        .enabled(if: canMount || ProcessInfo.processInfo.environment["CI"] != nil))
    func fullDisk() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("metis-full-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mounted = try await MetisProcesses.run(
            URL(fileURLWithPath: "/usr/bin/mount"), ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint.path])
        try #require(mounted.status == 0, "cannot mount a tmpfs: \(mounted.output)")
        defer {
            _ = try? Process.run(URL(fileURLWithPath: "/usr/bin/umount"), arguments: ["-l", mountPoint.path]).waitUntilExit()
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let data = mountPoint.appendingPathComponent("data")
        let storage = Process()
        storage.executableURL = MetisProcesses.executable("metis")
        storage.arguments = ["storage", "--data", data.path, "--log-level", "critical"]
        try storage.run()
        let started = StartedProcesses()
        started.add(storage)
        defer { started.killAll() }
        let connection = RPCConnection(address: .unix(path: data.appendingPathComponent("run/storage.sock").path))
        defer { Task { await connection.close() } }
        let client = Metis_V1_Storage.Client(connection)
        _ = try await Metis_V1_Health.Client(connection).check(options: CallOptions(timeout: .seconds(120), waitForReady: true))

        // Fill it: every store is acknowledged or refused with the reason.
        var stored = [Int: Data]()
        var refusal: RPCError?
        for index in 1...40 {
            let bytes = try Self.instance(index, study: "2.25.91")
            do {
                _ = try await client.storeInstance(.with { $0.dicom = bytes })
                stored[index] = bytes
            } catch let error as RPCError {
                refusal = error
                break
            }
        }
        let full = try #require(refusal, "6 MB never filled up")
        #expect(full.code == .unavailable && full.message.contains("No space left"), "\(full)")
        #expect(stored.count >= 3)
        func checkIntact() async throws {
            for (index, bytes) in stored {
                var read = Data()
                for try await chunk in client.retrieveInstance(.with { $0.sopInstanceUid = "2.25.91.\(index)" }) { read.append(chunk.data) }
                #expect(read == bytes, "instance \(index)")
            }
            let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("storage/tmp").path)) ?? []
            #expect(temporaries.isEmpty, "partial files: \(temporaries)")
            #expect(Int(try await client.getStatistics().instances) == stored.count)
        }
        try await checkIntact()

        // Freeing space (deleting the study) makes stores work again, once its files are unlinked right after the answer.
        _ = try await client.deleteStudy(.with { $0.studyInstanceUid = "2.25.91" })
        let again = try Self.instance(1, study: "2.25.93")
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                _ = try await client.storeInstance(.with { $0.dicom = again })
                break
            } catch let error as RPCError where ContinuousClock.now < deadline {
                #expect(error.message.contains("No space left on device"), "\(error)")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        stored = [:]
        #expect(Int(try await client.getStatistics().instances) == 1)

        // A read-only data directory (the volume remounted read-only while storage was down): it refuses
        // to start, saying why, and after the volume is writable again it starts on intact data.
        storage.terminate()
        await MetisProcesses.waitForExit(storage)
        let readOnly = try await MetisProcesses.run(URL(fileURLWithPath: "/usr/bin/mount"), ["-o", "remount,ro", mountPoint.path])
        try #require(readOnly.status == 0, "cannot remount read-only: \(readOnly.output)")
        let refused = Process()
        refused.executableURL = MetisProcesses.executable("metis")
        refused.arguments = ["storage", "--data", data.path, "--log-level", "error"]
        let errors = Pipe()
        refused.standardError = errors
        refused.standardOutput = errors
        try refused.run()
        started.add(refused)
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        await MetisProcesses.waitForExit(refused)
        #expect(refused.terminationStatus != 0)
        #expect(said.lowercased().contains("read-only") || said.lowercased().contains("readonly"), "\(said)")
        _ = try await MetisProcesses.run(URL(fileURLWithPath: "/usr/bin/mount"), ["-o", "remount,rw", mountPoint.path])
        let restarted = Process()
        restarted.executableURL = MetisProcesses.executable("metis")
        restarted.arguments = ["storage", "--data", data.path, "--log-level", "critical"]
        try restarted.run()
        started.add(restarted)
        _ = try await Metis_V1_Health.Client(connection).check(options: CallOptions(timeout: .seconds(120), waitForReady: true))
        var read = Data()
        for try await chunk in client.retrieveInstance(.with { $0.sopInstanceUid = "2.25.93.1" }) { read.append(chunk.data) }
        #expect(read == again)
    }
}
