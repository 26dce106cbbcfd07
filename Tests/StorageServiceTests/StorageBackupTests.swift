import Foundation
import MetisProto
import SwiftProtobuf
import Testing

@testable import StorageService

/// The storage half of `metis backup`: index and blobs, an instance deleted
/// meanwhile left out, a damaged blob refused.
@Suite("storage backup")
struct StorageBackupTests {
    @Test("copies every referenced blob; drops an instance whose blob went; refuses a damaged blob")
    func copies() async throws {
        let harness = try await StorageHarness.start()
        defer { try? FileManager.default.removeItem(at: harness.directory) }
        var hashes = [String]()
        for index in 0..<3 {
            let stored = try await harness.client.storeInstance(
                .with {
                    $0.dicom = try makeInstance(sop: "2.25.5\(index)", series: index == 2 ? "1.2.3.4.2" : "1.2.3.4.1", seed: UInt8(index))
                })
            hashes.append(stored.sha256)
        }

        let whole = try StorageBackup.copy(from: harness.storage, to: harness.directory.appendingPathComponent("backup-1"))
        #expect(whole.instances == 3 && whole.blobs == 3 && whole.droppedInstances == 0)
        let copied = try BlobStore(directory: harness.directory.appendingPathComponent("backup-1/blobs"))
        for hash in hashes { #expect(FileManager.default.contents(atPath: copied.url(for: hash).path) != nil) }

        // As if the second series were deleted after the index was copied: its blob is gone.
        let blobs = try BlobStore(directory: harness.storage.appendingPathComponent("blobs"))
        try FileManager.default.removeItem(at: blobs.url(for: hashes[2]))
        let partial = try StorageBackup.copy(from: harness.storage, to: harness.directory.appendingPathComponent("backup-2"))
        #expect(partial.instances == 2 && partial.droppedInstances == 1)

        try Data("not the stored bytes".utf8).write(to: blobs.url(for: hashes[0]))
        #expect(throws: StorageBackup.BackupError.self) {
            try StorageBackup.copy(from: harness.storage, to: harness.directory.appendingPathComponent("backup-3"))
        }
        try await harness.stop()
    }
}
