import Foundation
import Logging
import MetisProto
import MetisRPC
import Testing

@testable import StorageService

@Suite("metis-storage")
struct StorageServerTests {
    @Test("serves Health and Statistics on a fresh data directory, with the index migrated")
    func freshStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-storage-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let address = RPCAddress.unix(path: directory.appendingPathComponent("storage.sock").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = try await StorageServer.build(
            configuration: StorageConfiguration(directory: directory.appendingPathComponent("storage"), address: address),
            version: "test", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await server.run() }
        _ = try await server.listeningAddress()
        let connection = RPCConnection(address: address)

        let health = try await Metis_V1_Health.Client(connection).check()
        #expect(health.status == .serving)
        #expect(health.component == "metis-storage")

        let statistics = try await Metis_V1_Storage.Client(connection).getStatistics()
        #expect(statistics.instances == 0)
        #expect(statistics.indexSchemaVersion == 5)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("storage/index.sqlite").path))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("storage/blobs").path))

        // Disk bytes are measured, not recorded: a file in the blob tree shows up.
        let blob = directory.appendingPathComponent("storage/blobs/ab/cd")
        try FileManager.default.createDirectory(at: blob, withIntermediateDirectories: true)
        try Data(repeating: 1, count: 10_000).write(to: blob.appendingPathComponent("abcd0000"))
        let after = try await Metis_V1_Storage.Client(connection).getStatistics()
        #expect(after.diskBytes >= 10_000)

        await connection.close()
        server.shutdown()
        try await task.value
    }

    @Test("a data directory that cannot be created is a startup error")
    func unusableDirectory() async throws {
        await #expect(throws: (any Error).self) {
            _ = try await StorageServer.build(
                configuration: StorageConfiguration(
                    directory: URL(fileURLWithPath: "/proc/metis-cannot-exist"), address: .unix(path: "/tmp/x.sock")),
                version: "test", logger: Logger(label: "test"))
        }
    }
}
