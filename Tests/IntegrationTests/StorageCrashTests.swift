import DICOM
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

/// metis-storage killed with SIGKILL in the middle of a batch of uploads loses
/// nothing it acknowledged and leaves nothing half-written.
@Suite("metis-storage crash safety", .serialized)
struct StorageCrashTests {
    @Test("every acknowledged instance survives SIGKILL, intact; nothing half-written remains")
    func killDuringUploads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-crash-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let socket = data.appendingPathComponent("run/storage.sock").path
        let metis = MetisProcesses.executable("metis")

        func startStorage() throws -> Process {
            let process = Process()
            process.executableURL = metis
            process.arguments = ["storage", "--data", data.path, "--log-level", "error"]
            try process.run()
            return process
        }

        let files = try (1...120).map { index -> Data in
            var dataset = Dataset()
            dataset[.sopClassUID] = .text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
            dataset[.sopInstanceUID] = .text(.sopInstanceUID, .UI, "2.25.77.\(index)")
            dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, "2.25.77")
            dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, "2.25.77.\(index % 3)")
            dataset[.patientID] = .text(.patientID, .LO, "CRASH")
            dataset[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB, value: .bytes(Data(repeating: UInt8(index % 251), count: 256 * 1024)))
            return try DICOMWriter.write(dataset)
        }

        // Whatever happens, no storage process outlives the test (a leftover keeps the test runner's output open).
        let started = StartedProcesses()
        defer { started.killAll() }
        var storage = try startStorage()
        started.add(storage)
        let connection = RPCConnection(address: .unix(path: socket))
        let client = Metis_V1_Storage.Client(connection)
        // Wait for it to answer (slow when the other tests load both cores).
        _ = try await Metis_V1_Health.Client(connection).check(options: CallOptions(timeout: .seconds(120), waitForReady: true))

        // Eight uploads in flight at a time; the tenth acknowledgment kills the server while the others are on their way.
        let acknowledged = AcknowledgedSet()
        let pid = storage.processIdentifier
        await withTaskGroup(of: Void.self) { group in
            var pending = files.enumerated().makeIterator()
            func submit() {
                guard let (index, bytes) = pending.next() else { return }
                group.addTask {
                    guard
                        let response = try? await client.storeInstance(
                            .with { $0.dicom = bytes }, options: CallOptions(timeout: .seconds(30)))
                    else {
                        return
                    }
                    if await acknowledged.insert(index, sha256: response.sha256) == 10 { kill(pid, SIGKILL) }
                }
            }
            for _ in 0..<8 { submit() }
            while await group.next() != nil { submit() }
        }
        await MetisProcesses.waitForExit(storage)
        let survivors = await acknowledged.entries
        #expect(survivors.count >= 10)
        #expect(survivors.count < files.count, "the kill landed mid-batch")

        // Restart: every acknowledged instance is there, byte-identical; no partial file is left.
        storage = try startStorage()
        started.add(storage)
        _ = try await Metis_V1_Health.Client(connection).check(options: CallOptions(timeout: .seconds(120), waitForReady: true))
        for (index, sha256) in survivors {
            var bytes = Data()
            for try await chunk in client.retrieveInstance(.with { $0.sopInstanceUid = "2.25.77.\(index + 1)" }) {
                bytes.append(chunk.data)
            }
            #expect(bytes == files[index], "instance \(index + 1)")
            #expect(sha256.count == 64)
        }
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("storage/tmp").path)
        #expect(temporaries.isEmpty)
        // Index and blobs agree: every row has its blob, every blob its row.
        let statistics = try await client.getStatistics()
        let blobCount =
            (FileManager.default.enumerator(atPath: data.appendingPathComponent("storage/blobs").path)?.allObjects as? [String] ?? [])
            .filter { $0.split(separator: "/").count == 2 }.count
        #expect(Int(statistics.instances) == blobCount)
        #expect(Int(statistics.instances) >= survivors.count)
        await connection.close()
    }
}

/// Child processes a test started, killed when it ends.
final class StartedProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var processes = [Process]()

    func add(_ process: Process) {
        lock.withLock { processes.append(process) }
    }

    func killAll() {
        lock.withLock {
            for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}

actor AcknowledgedSet {
    private(set) var entries: [Int: String] = [:]
    var count: Int { entries.count }
    /// Records an acknowledgment; returns how many there are now.
    func insert(_ index: Int, sha256: String) -> Int {
        entries[index] = sha256
        return entries.count
    }
}
