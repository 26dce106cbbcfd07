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
    @Test("a record tracking cannot take is kept on disk and delivered by the next gateway run")
    func survivesRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-outbox-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = RPCAddress.unix(path: directory.appendingPathComponent("tracking.sock").path)
        let outbox = directory.appendingPathComponent("outbox")
        let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let request = Metis_V1_RecordStudyRequest.with {
            $0.patientID = "OUTBOX-1"
            $0.studyInstanceUid = "2.25.4242"
            $0.seriesInstanceUid = "2.25.4242.1"
            $0.engine = "classical"
            $0.lesions = [.with {
                $0.roiNumber = 1
                $0.label = "Lesion 1"
                $0.volumeMm3 = 500
                $0.longestDiameterMm = 10
                $0.centroidMm = [1, 2, 3]
            }]
        }

        // Tracking is down: the record is reported as not done and kept in the outbox.
        let down = RPCConnection(address: address)
        let first = FollowUpRecorder(tracking: Metis_V1_Tracking.Client(down), outbox: outbox, logger: quiet)
        let outcome = await first.record(request)
        #expect(!outcome.recorded)
        #expect(outcome.reason?.contains("retried") == true)
        #expect(FileManager.default.fileExists(atPath: outbox.appendingPathComponent("2.25.4242.pending").path))
        await first.shutdown()
        await down.close()

        // A new gateway run, tracking now up: the outbox is delivered and emptied.
        let server = try TrackingServer.build(
            configuration: TrackingConfiguration(directory: directory.appendingPathComponent("tracking"), address: address), version: "test",
            logger: quiet)
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        let up = RPCConnection(address: address)
        let client = Metis_V1_Tracking.Client(up)
        let second = FollowUpRecorder(tracking: client, outbox: outbox, logger: quiet)
        await second.resume()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, await second.backlog > 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await second.backlog == 0)
        #expect(try await client.getStatistics().lesions == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.path).isEmpty)

        await up.close()
        server.shutdown()
        try await task.value
    }
}
