import DICOM
import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

@testable import StorageService

/// A metis-storage server on a temporary directory, and a client of it.
struct StorageHarness {
    let directory: URL
    let server: RPCServer
    let task: Task<Void, any Error>
    let client: Metis_V1_Storage.Client
    let connection: RPCConnection

    static func start(directory: URL? = nil, policy: StorageConfiguration.ConflictPolicy = .refuse, strict: Bool = false) async throws
        -> StorageHarness
    {
        let directory =
            directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("metis-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let address = RPCAddress.unix(path: directory.appendingPathComponent("storage.sock").path)
        let server = try await StorageServer.build(
            configuration: StorageConfiguration(
                directory: directory.appendingPathComponent("storage"), address: address, conflictPolicy: policy, strictValidation: strict),
            version: "test", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        let connection = RPCConnection(address: address)
        return StorageHarness(
            directory: directory, server: server, task: task, client: Metis_V1_Storage.Client(connection), connection: connection)
    }

    var storage: URL { directory.appendingPathComponent("storage") }

    func stop() async throws {
        await connection.close()
        server.shutdown()
        try await task.value
    }

    func retrieve(_ sop: String) async throws -> Data {
        var data = Data()
        for try await chunk in client.retrieveInstance(.with { $0.sopInstanceUid = sop }) { data.append(chunk.data) }
        return data
    }

    /// Whether `condition` holds within 10 s: a delete answers once its rows
    /// are gone, and its blobs are unlinked right after.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Files under blobs/ and tmp/.
    func files() -> [String] {
        let walker = FileManager.default.enumerator(atPath: storage.path)
        return (walker?.allObjects as? [String] ?? []).filter {
            $0.hasPrefix("blobs/") && $0.split(separator: "/").count == 3 || $0.hasPrefix("tmp/")
        }
    }
}

/// A small MR instance as a Part 10 file.
func makeInstance(
    sop: String, study: String = "1.2.3.4", series: String = "1.2.3.4.1", patient: String = "P1", name: String = "Dupont^Hélène",
    pixels: Int = 64, seed: UInt8 = 0
) throws -> Data {
    var dataset = Dataset(characterSet: SpecificCharacterSet(terms: ["ISO_IR 192"]))
    dataset[.specificCharacterSet] = .text(.specificCharacterSet, .CS, "ISO_IR 192")
    dataset[.sopClassUID] = .text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
    dataset[.sopInstanceUID] = .text(.sopInstanceUID, .UI, sop)
    dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, study)
    dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, series)
    dataset[.patientID] = .text(.patientID, .LO, patient)
    dataset[.patientName] = DataElement(tag: .patientName, vr: .PN, value: .bytes(Data(name.utf8)))
    dataset[.modality] = .text(Tag.modality, .CS, "MR")
    dataset[.rows] = DataElement(tag: .rows, vr: .US, value: .bytes(Data([8, 0])))
    let columns = UInt16(clamping: pixels / 8)
    dataset[.columns] = DataElement(tag: .columns, vr: .US, value: .bytes(Data([UInt8(columns & 0xFF), UInt8(columns >> 8)])))
    dataset[.bitsAllocated] = DataElement(tag: .bitsAllocated, vr: .US, value: .bytes(Data([8, 0])))
    dataset[.pixelData] = DataElement(
        tag: .pixelData, vr: .OB, value: .bytes(Data((0..<pixels).map { UInt8(truncatingIfNeeded: $0) &+ seed })))
    return try DICOMWriter.write(dataset)
}

@Suite("Storing, retrieving and deleting instances")
struct StoreRetrieveDeleteTests {
    @Test("store → retrieve byte-identical; the same bytes again are already stored")
    func storeAndRetrieve() async throws {
        let harness = try await StorageHarness.start()
        let bytes = try makeInstance(sop: "1.2.3.4.1.1")
        let stored = try await harness.client.storeInstance(.with { $0.dicom = bytes })
        #expect(stored.outcome == .stored)
        #expect(stored.studyInstanceUid == "1.2.3.4")
        #expect(stored.size == UInt64(bytes.count))
        #expect(stored.sha256.count == 64)
        #expect(try await harness.retrieve("1.2.3.4.1.1") == bytes)
        #expect(try await harness.client.storeInstance(.with { $0.dicom = bytes }).outcome == .alreadyStored)
        let statistics = try await harness.client.getStatistics()
        #expect((statistics.patients, statistics.studies, statistics.series, statistics.instances) == (1, 1, 1, 1))
        #expect(statistics.storedBytes == UInt64(bytes.count))
        #expect(harness.files().filter { $0.hasPrefix("blobs/") }.count == 1)
        try await harness.stop()
    }

    @Test("other content under a stored SOP Instance UID is refused, or replaces it under the overwrite policy")
    func conflicts() async throws {
        let refusing = try await StorageHarness.start()
        _ = try await refusing.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.9") })
        do {
            _ = try await refusing.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.9", seed: 1) })
            Issue.record("conflict accepted")
        } catch let error as RPCError {
            #expect(error.code == .alreadyExists)
        }
        #expect(try await refusing.retrieve("1.2.9") == (try makeInstance(sop: "1.2.9")))
        try await refusing.stop()

        let overwriting = try await StorageHarness.start(policy: .overwrite)
        _ = try await overwriting.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.9") })
        let replaced = try await overwriting.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.9", seed: 1) })
        #expect(replaced.outcome == .replaced)
        #expect(try await overwriting.retrieve("1.2.9") == (try makeInstance(sop: "1.2.9", seed: 1)))
        #expect(overwriting.files().filter { $0.hasPrefix("blobs/") }.count == 1, "the old blob is gone")
        try await overwriting.stop()
    }

    @Test("a refusal says why in a StoreRefusal, with the UIDs the file names; an instance not as the caller expected is refused")
    func refusalDetails() async throws {
        let harness = try await StorageHarness.start()
        _ = try await harness.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.9") })
        func refusal(_ request: Metis_V1_StoreInstanceRequest) async throws -> (RPCError.Code, Metis_V1_StoreRefusal)? {
            do {
                _ = try await harness.client.storeInstance(request)
                return nil
            } catch let error as RPCError {
                return (error.code, try #require(error.details(as: Metis_V1_StoreRefusal.self), "\(error) carries no StoreRefusal"))
            }
        }
        let duplicate = try #require(try await refusal(.with { $0.dicom = try makeInstance(sop: "1.2.9", seed: 1) }))
        #expect(duplicate.0 == .alreadyExists)
        #expect(duplicate.1.reason == .duplicateSopInstance)
        #expect(duplicate.1.sopInstanceUid == "1.2.9" && duplicate.1.studyInstanceUid == "1.2.3.4" && duplicate.1.patientID == "P1")
        #expect(duplicate.1.sopClassUid == "1.2.840.10008.5.1.4.1.1.4" && duplicate.1.seriesInstanceUid == "1.2.3.4.1")

        let hierarchy = try #require(try await refusal(.with { $0.dicom = try makeInstance(sop: "1.2.10", study: "1.2.3.5") }))
        #expect(hierarchy.0 == .alreadyExists)
        #expect(hierarchy.1.reason == .conflictingHierarchy)
        #expect(hierarchy.1.studyInstanceUid == "1.2.3.5")

        let otherStudy = try #require(
            try await refusal(
                .with {
                    $0.dicom = try makeInstance(sop: "1.2.11")
                    $0.expectedStudyInstanceUid = "1.2.3.99"
                }))
        #expect(otherStudy.0 == .invalidArgument && otherStudy.1.reason == .studyMismatch && otherStudy.1.sopInstanceUid == "1.2.11")
        for (sopClass, sopInstance) in [("1.2.840.10008.5.1.4.1.1.2", "1.2.12"), ("1.2.840.10008.5.1.4.1.1.4", "1.2.13")] {
            let command = try #require(
                try await refusal(
                    .with {
                        $0.dicom = try makeInstance(sop: "1.2.12")
                        $0.expectedSopClassUid = sopClass
                        $0.expectedSopInstanceUid = sopInstance
                    }))
            #expect(command.0 == .invalidArgument && command.1.reason == .commandMismatch)
        }
        let unreadable = try #require(try await refusal(.with { $0.dicom = Data("not DICOM".utf8) }))
        #expect(unreadable.0 == .invalidArgument && unreadable.1.reason == .cannotUnderstand && unreadable.1.sopInstanceUid.isEmpty)
        // What the caller expected, it gets stored.
        let matching = try await harness.client.storeInstance(
            .with {
                $0.dicom = try makeInstance(sop: "1.2.12")
                $0.expectedStudyInstanceUid = "1.2.3.4"
                $0.expectedSopClassUid = "1.2.840.10008.5.1.4.1.1.4"
                $0.expectedSopInstanceUid = "1.2.12"
            })
        #expect(matching.outcome == .stored)
        #expect(try await harness.client.getStatistics().instances == 2, "nothing refused was stored")
        try await harness.stop()
    }

    @Test(
        "non-DICOM and broken input is INVALID_ARGUMENT and leaves nothing behind",
        arguments: ["garbage", "truncated", "no-uid", "bad-uid"])
    func invalid(kind: String) async throws {
        let harness = try await StorageHarness.start()
        let good = try makeInstance(sop: "1.2.3.4.1.1")
        let bytes: Data
        switch kind {
        case "garbage": bytes = Data("this is not DICOM at all".utf8)
        case "truncated": bytes = good.prefix(good.count - 20)
        case "no-uid":
            var dataset = try DICOMReader.read(good).dataset
            dataset[.studyInstanceUID] = nil
            bytes = try DICOMWriter.write(dataset)
        default:
            // Not usable even leniently: it could not be named in a URL.
            var dataset = try DICOMReader.read(good).dataset
            dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, "1.2/../3 4")
            bytes = try DICOMWriter.write(dataset)
        }
        do {
            _ = try await harness.client.storeInstance(.with { $0.dicom = bytes })
            Issue.record("\(kind) accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(!error.message.isEmpty)
        }
        #expect(harness.files().isEmpty)
        #expect(try await harness.client.getStatistics().instances == 0)
        try await harness.stop()
    }

    @Test("lenient validation stores a non-conformant UID and a mismatched meta header as sent, with warnings; strict refuses them")
    func lenientAndStrict() async throws {
        var dataset = try DICOMReader.read(try makeInstance(sop: "1.2.3.4.1.1")).dataset
        dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, "1.02.abc")
        let nonConformant = try DICOMWriter.write(dataset)
        let lenient = try await StorageHarness.start()
        let stored = try await lenient.client.storeInstance(.with { $0.dicom = nonConformant })
        #expect(stored.outcome == .stored)
        #expect(stored.warnings.contains { $0.contains("'1.02.abc' is not a conformant UID") }, "\(stored.warnings)")
        #expect(try await lenient.retrieve("1.2.3.4.1.1") == nonConformant)
        try await lenient.stop()

        let strict = try await StorageHarness.start(strict: true)
        do {
            _ = try await strict.client.storeInstance(.with { $0.dicom = nonConformant })
            Issue.record("strict validation stored a non-conformant UID")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("dicom_validation = strict"))
        }
        #expect(strict.files().filter { $0.hasPrefix("blobs/") }.isEmpty)
        try await strict.stop()
    }

    @Test("deleting a series, then the study, removes rows and blobs; unknown UIDs are NOT_FOUND")
    func delete() async throws {
        let harness = try await StorageHarness.start()
        for (index, series) in ["1.2.3.4.1", "1.2.3.4.2"].enumerated() {
            for instance in 1...3 {
                _ = try await harness.client.storeInstance(
                    .with { $0.dicom = try makeInstance(sop: "\(series).\(instance)", series: series, seed: UInt8(index)) })
            }
        }
        #expect(harness.files().count == 6)
        let series = try await harness.client.deleteSeries(
            .with {
                $0.studyInstanceUid = "1.2.3.4"; $0.seriesInstanceUid = "1.2.3.4.1"
            })
        #expect(series.instancesDeleted == 3)
        #expect(try await harness.eventually { harness.files().count == 3 })
        #expect(try await harness.client.getStatistics().series == 1)
        let study = try await harness.client.deleteStudy(.with { $0.studyInstanceUid = "1.2.3.4" })
        #expect(study.instancesDeleted == 3)
        #expect(try await harness.eventually { harness.files().isEmpty })
        let statistics = try await harness.client.getStatistics()
        #expect((statistics.patients, statistics.studies, statistics.instances) == (0, 0, 0))
        await #expect(throws: RPCError.self) { _ = try await harness.client.deleteStudy(.with { $0.studyInstanceUid = "1.2.3.4" }) }
        await #expect(throws: RPCError.self) { _ = try await harness.retrieve("1.2.3.4.2.1") }
        try await harness.stop()
    }

    @Test("two uploads of the same instance at once store it once")
    func concurrentSameInstance() async throws {
        let harness = try await StorageHarness.start()
        let bytes = try makeInstance(sop: "1.2.77")
        let outcomes = try await withThrowingTaskGroup(of: Metis_V1_StoreInstanceResponse.Outcome.self) { group in
            for _ in 0..<8 { group.addTask { try await harness.client.storeInstance(.with { $0.dicom = bytes }).outcome } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .stored }.count == 1)
        #expect(outcomes.filter { $0 == .alreadyStored }.count == 7)
        #expect(harness.files().count == 1)
        try await harness.stop()
    }

    @Test("the start-up check removes partial files and unreferenced blobs, and rows without blobs")
    func startupRepair() async throws {
        let first = try await StorageHarness.start()
        _ = try await first.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.5.1") })
        let kept = try await first.client.storeInstance(.with { $0.dicom = try makeInstance(sop: "1.2.5.2", seed: 3) })
        try await first.stop()

        // What a crash can leave: a partial temporary file, a blob no row references, and (never by
        // Metis, but by an operator deleting files) a row whose blob is gone.
        let storage = first.storage
        try Data("partial".utf8).write(to: storage.appendingPathComponent("tmp/abc.part"))
        let orphan = String(repeating: "ab", count: 32)
        let orphanURL = storage.appendingPathComponent("blobs/ab/\(orphan)")
        try Data("orphan".utf8).write(to: orphanURL)
        let lost = try StorageIndex(path: storage.appendingPathComponent("index.sqlite").path).instance("1.2.5.1")!
        let blobs = try BlobStore(directory: storage.appendingPathComponent("blobs"))
        blobs.remove(lost.sha256)

        let second = try await StorageHarness.start(directory: first.directory)
        #expect(!FileManager.default.fileExists(atPath: storage.appendingPathComponent("tmp/abc.part").path))
        #expect(!FileManager.default.fileExists(atPath: orphanURL.path))
        let statistics = try await second.client.getStatistics()
        #expect(statistics.instances == 1)
        #expect(try await second.retrieve("1.2.5.2").count == Int(kept.size))
        try await second.stop()
    }

    @Test("blobs of the earlier two-level layout (ab/cd/<sha256>) move into their shard at start and stay readable")
    func legacyLayout() async throws {
        let first = try await StorageHarness.start()
        var stored = [String: Data]()
        for number in 1...6 {
            let bytes = try makeInstance(sop: "1.2.6.\(number)", seed: UInt8(number))
            _ = try await first.client.storeInstance(.with { $0.dicom = bytes })
            stored["1.2.6.\(number)"] = bytes
        }
        try await first.stop()
        let blobs = first.storage.appendingPathComponent("blobs")
        var moved = 0
        for shard in try FileManager.default.contentsOfDirectory(atPath: blobs.path) {
            for name in try FileManager.default.contentsOfDirectory(atPath: blobs.appendingPathComponent(shard).path) {
                let legacy = blobs.appendingPathComponent("\(shard)/\(name.dropFirst(2).prefix(2))", isDirectory: true)
                try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
                try FileManager.default.moveItem(
                    at: blobs.appendingPathComponent("\(shard)/\(name)"), to: legacy.appendingPathComponent(name))
                moved += 1
            }
        }
        #expect(moved == 6)
        let oneLevel = first.files().filter { $0.hasPrefix("blobs/") && ($0.split(separator: "/").last ?? "").count == 64 }
        #expect(oneLevel.isEmpty, "nothing left in the one-level layout")

        let second = try await StorageHarness.start(directory: first.directory)
        #expect(try await second.client.getStatistics().instances == 6, "the start-up check found every blob")
        for (sop, bytes) in stored { #expect(try await second.retrieve(sop) == bytes) }
        let entries = FileManager.default.enumerator(atPath: blobs.path)?.allObjects as? [String] ?? []
        #expect(
            entries.filter { $0.split(separator: "/").count > 2 }.isEmpty,
            "no two-level directory is left: \(entries.filter { $0.count < 6 })")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.path).count == 256)
        try await second.stop()
    }

    @Test("deleting a study while the same instance is stored again never leaves a row without its blob")
    func deleteRacingStore() async throws {
        let harness = try await StorageHarness.start()
        let bytes = try makeInstance(sop: "1.2.7.1", study: "1.2.7")
        for _ in 0..<20 {
            _ = try await harness.client.storeInstance(.with { $0.dicom = bytes })
            async let stored = harness.client.storeInstance(.with { $0.dicom = bytes })
            async let deleted: Void = { _ = try? await harness.client.deleteStudy(.with { $0.studyInstanceUid = "1.2.7" }) }()
            _ = try await (stored, deleted)
            // Either the delete came last (nothing indexed) or the store did (indexed and readable).
            if try await harness.client.getStatistics().instances == 1 {
                #expect(try await harness.retrieve("1.2.7.1") == bytes)
                #expect(harness.files().filter { $0.hasPrefix("blobs/") }.count == 1)
            } else {
                #expect(try await harness.eventually { harness.files().filter { $0.hasPrefix("blobs/") }.isEmpty })
            }
        }
        try await harness.stop()
    }

    @Test("large instances come back in several chunks, in order")
    func chunkedRetrieve() async throws {
        let harness = try await StorageHarness.start()
        let bytes = try makeInstance(sop: "1.2.8", pixels: 3 * (1 << 20) + 8)
        _ = try await harness.client.storeInstance(.with { $0.dicom = bytes })
        var chunks = 0
        var data = Data()
        for try await chunk in harness.client.retrieveInstance(.with { $0.sopInstanceUid = "1.2.8" }) {
            chunks += 1
            #expect(chunk.totalSize == UInt64(bytes.count))
            data.append(chunk.data)
        }
        #expect(chunks == 4)
        #expect(data == bytes)
        try await harness.stop()
    }
}
