import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing
import TrackingService

@testable import Gateway

@Suite("follow-up outbox")
struct FollowUpRecorderTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-outbox-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A metis-tracking server on `directory/tracking.sock`, and a client of it.
    struct Tracking {
        let server: RPCServer
        let task: Task<Void, any Error>
        let connection: RPCConnection
        var client: Metis_V1_Tracking.Client { Metis_V1_Tracking.Client(connection) }

        static func address(in directory: URL) -> RPCAddress { .unix(path: directory.appendingPathComponent("tracking.sock").path) }

        static func start(in directory: URL) async throws -> Tracking {
            let address = address(in: directory)
            let server = try TrackingServer.build(
                configuration: TrackingConfiguration(directory: directory.appendingPathComponent("tracking"), address: address),
                version: "test",
                logger: quiet)
            let task = Task { try await server.run() }
            _ = try await server.listeningAddress()
            return Tracking(server: server, task: task, connection: RPCConnection(address: address))
        }

        func stop() async throws {
            await connection.close()
            server.shutdown()
            try await task.value
        }
    }

    /// Whether the recorder's retries are all done within 60 s.
    static func drained(_ recorder: FollowUpRecorder) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, await recorder.backlog > 0 { try await Task.sleep(for: .milliseconds(50)) }
        return await recorder.backlog == 0
    }

    @Test("a record tracking cannot take is kept on disk and delivered by the next gateway run")
    func survivesRestart() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = Tracking.address(in: directory)
        let outbox = directory.appendingPathComponent("outbox")
        let request = Self.record("2.25.4242", patient: "OUTBOX-1")

        // Tracking is down: the record is reported as not done and kept in the outbox.
        let down = RPCConnection(address: address)
        let first = FollowUpRecorder(tracking: Metis_V1_Tracking.Client(down), outbox: outbox, logger: Self.quiet)
        let outcome = await first.record(request)
        #expect(!outcome.recorded)
        #expect(outcome.reason?.contains("retried") == true)
        let saved = FollowUpOutbox.entries(in: try Data(contentsOf: outbox.appendingPathComponent("outbox.log")))
        guard case .operation(_, .record(let kept))? = saved.last else {
            Issue.record("the record is not in the outbox: \(saved)")
            return
        }
        #expect(kept == request)
        await first.shutdown()
        await down.close()

        // A new gateway run, tracking now up: the outbox is delivered and emptied.
        let tracking = try await Tracking.start(in: directory)
        let client = tracking.client
        let second = FollowUpRecorder(tracking: client, outbox: outbox, logger: Self.quiet)
        await second.resume()
        #expect(try await Self.drained(second))
        #expect(try await client.getStatistics().lesions == 1)
        let log = try FileManager.default.attributesOfItem(atPath: outbox.appendingPathComponent("outbox.log").path)
        #expect(log[.size] as? Int == 0, "nothing is outstanding: the log is emptied")

        try await tracking.stop()
    }

    static func studies(_ outbox: FollowUpOutbox) -> [String] { outbox.recovered.map(\.operation.study) }

    @Test("reopening keeps the latest undone operation per study, cuts a torn last entry, and takes the .pending files of earlier versions")
    func reopening() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-outbox-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try FollowUpOutbox(directory: directory)
        #expect(first.recovered.isEmpty)
        try first.append(.forget("2.25.1"), sequence: 1)
        try first.append(.forget("2.25.2"), sequence: 2)
        try first.append(.forget("2.25.1"), sequence: 3)  // replaces 1
        try first.markDone(2)
        try first.append(.forget("2.25.3"), sequence: 4)
        try first.markDone(4)
        try first.append(.forget("2.25.4"), sequence: 5)
        // A crash in the middle of an append: half an entry at the end.
        let torn = FollowUpOutbox.encode(.operation(sequence: 6, .forget("2.25.5")))
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent("outbox.log"))
        try handle.seekToEnd()
        try handle.write(contentsOf: torn.prefix(torn.count - 3))
        try handle.close()
        // An operation left by an earlier version, one file per study.
        try Data("F2.25.6".utf8).write(to: directory.appendingPathComponent("2.25.6.pending"))

        let second = try FollowUpOutbox(directory: directory)
        #expect(Self.studies(second) == ["2.25.1", "2.25.4", "2.25.6"])
        #expect(second.recovered.map(\.sequence) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["outbox.log"])

        // Reopened once more without changes: the same operations, still numbered from 1.
        let third = try FollowUpOutbox(directory: directory)
        #expect(Self.studies(third) == ["2.25.1", "2.25.4", "2.25.6"])
        third.clear()
        #expect(try FollowUpOutbox(directory: directory).recovered.isEmpty)
    }

    @Test("a record request survives the log byte for byte; garbage after the entries is ignored")
    func encoding() throws {
        let request = Metis_V1_RecordStudyRequest.with {
            $0.patientID = "P-Ünïcode"
            $0.studyInstanceUid = "2.25.77"
            $0.lesions = [
                .with {
                    $0.roiNumber = 3; $0.volumeMm3 = 12.5
                }
            ]
        }
        var log = FollowUpOutbox.encode(.operation(sequence: 9, .record(request)))
        log.append(FollowUpOutbox.encode(.done(sequence: 9)))
        log.append(Data([0xFF, 0xFF, 0xFF, 0x7F, 0x00]))
        let entries = FollowUpOutbox.entries(in: log)
        #expect(entries.count == 2)
        guard case .operation(9, .record(let decoded))? = entries.first, case .done(9)? = entries.last else {
            Issue.record("unexpected entries \(entries)")
            return
        }
        #expect(decoded == request)
    }

    static func record(_ study: String, patient: String) -> Metis_V1_RecordStudyRequest {
        .with {
            $0.patientID = patient
            $0.studyInstanceUid = study
            $0.seriesInstanceUid = study + ".1"
            $0.engine = "classical"
            $0.lesions = [
                .with {
                    $0.roiNumber = 1
                    $0.label = "Lesion 1"
                    $0.volumeMm3 = 500
                    $0.longestDiameterMm = 10
                    $0.centroidMm = [1, 2, 3]
                }
            ]
        }
    }

    struct StorageDown: Error {}

    @Test("a removal a previous run left is sent only once storage no longer has the study; a failed storage delete removes nothing")
    func removals() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tracking = try await Tracking.start(in: directory)
        let client = tracking.client
        for (study, patient) in [("2.25.501", "P-501"), ("2.25.502", "P-502"), ("2.25.503", "P-503")] {
            _ = try await client.recordStudy(Self.record(study, patient: patient))
        }

        // A previous run saved two removals and stopped: storage deleted 2.25.502, not 2.25.501.
        let outbox = directory.appendingPathComponent("outbox")
        let previous = try FollowUpOutbox(directory: outbox)
        try previous.append(.forget("2.25.501"), sequence: 1)
        try previous.append(.forget("2.25.502"), sequence: 2)
        let recorder = FollowUpRecorder(
            tracking: client, outbox: outbox, logger: Self.quiet, studyIsStored: { $0 == "2.25.501" || $0 == "2.25.503" })
        await recorder.resume()
        #expect(try await Self.drained(recorder))
        #expect(try await client.getStatistics().studies == 2, "2.25.502 is gone, 2.25.501 stays")

        // Storage fails to delete 2.25.503: the follow-up keeps it, and the outbox holds nothing for it.
        await #expect(throws: StorageDown.self) {
            try await recorder.deleteStudy("2.25.503") { () async throws -> Int in throw StorageDown() }
        }
        #expect(try await client.getStatistics().studies == 2)
        let log = try Data(contentsOf: outbox.appendingPathComponent("outbox.log"))
        #expect(log.isEmpty, "nothing outstanding: \(FollowUpOutbox.entries(in: log))")

        // Storage deletes it: so does the follow-up, and the storage call's answer comes back.
        #expect(try await recorder.deleteStudy("2.25.503") { 42 } == 42)
        #expect(try await client.getStatistics().studies == 1)

        try await tracking.stop()
    }

    @Test("a failed storage delete keeps an update of the study that was waiting for a retry")
    func failedDeleteKeepsWaitingUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let down = RPCConnection(address: .unix(path: directory.appendingPathComponent("nothing.sock").path))
        let outbox = directory.appendingPathComponent("outbox")
        let recorder = FollowUpRecorder(tracking: Metis_V1_Tracking.Client(down), outbox: outbox, logger: Self.quiet)
        #expect(await !recorder.record(Self.record("2.25.601", patient: "P-601")).recorded)
        #expect(await recorder.backlog == 1)
        await #expect(throws: StorageDown.self) {
            try await recorder.deleteStudy("2.25.601") { () async throws -> Int in throw StorageDown() }
        }
        #expect(await recorder.backlog == 1, "the record still waits")
        await recorder.shutdown()
        await down.close()
        // What a next run would retry: the record, not the removal.
        let reopened = try FollowUpOutbox(directory: outbox)
        guard case .record(let request)? = reopened.recovered.last?.operation else {
            Issue.record("the record is not in the outbox: \(reopened.recovered)")
            return
        }
        #expect(request.studyInstanceUid == "2.25.601")
    }
}
