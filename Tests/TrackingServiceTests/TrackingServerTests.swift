import Foundation
import Logging
import MetisProto
import MetisRPC
import Testing

@testable import TrackingService

@Suite("metis-tracking")
struct TrackingServerTests {
    @Test("serves Health and Statistics with the follow-up schema migrated, and keeps data across restarts")
    func freshDatabase() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-tracking-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let address = RPCAddress.unix(path: directory.appendingPathComponent("tracking.sock").path)
        let configuration = TrackingConfiguration(directory: directory.appendingPathComponent("tracking"), address: address)
        for _ in 0..<2 {
            let server = try TrackingServer.build(
                configuration: configuration, version: "test", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            let task = Task { try await server.run() }
            _ = try await server.listeningAddress()
            let connection = RPCConnection(address: address)
            let health = try await Metis_V1_Health.Client(connection).check()
            #expect(health.component == "metis-tracking")
            #expect(health.status == .serving)
            let statistics = try await Metis_V1_Tracking.Client(connection).getStatistics()
            #expect(statistics.databaseSchemaVersion == 3)
            #expect(statistics.lesions == 0)
            await connection.close()
            server.shutdown()
            try await task.value
        }
    }
}
