import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MetisRPC
import Testing

@testable import Gateway

/// The audit trail: who did what to which study, allowed or refused, never a token.
@Suite("audit log")
struct AuditLogTests {
    @Test("reads, exports, refused deletes and missing tokens are each one JSON line with the token's id, the study and the status")
    func entries() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-audit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = TokenStore(file: directory.appendingPathComponent("tokens.json"))
        let viewer = try store.create(role: .viewer, label: "ward")
        let clinician = try store.create(role: .clinician, label: "dr")
        let file = directory.appendingPathComponent("gateway/audit.jsonl")
        let nowhere = RPCAddress.unix(path: directory.appendingPathComponent("nothing.sock").path)
        let app = try Gateway.build(
            configuration: GatewayConfiguration(
                storage: nowhere, tracking: nowhere, inference: [nowhere], version: "audit", tokens: store, audit: try AuditLog(file: file)),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await app.test(.router) { client in
            let asViewer: HTTPFields = [.authorization: "Bearer \(viewer.token)"]
            let asClinician: HTTPFields = [.authorization: "Bearer \(clinician.token)"]
            _ = try await client.execute(uri: "/dicom-web/studies/2.25.77/series/2.25.78/metadata", method: .get, headers: asViewer)
            _ = try await client.execute(uri: "/api/v1/patients/PAT-9/export.csv", method: .get, headers: asClinician)
            _ = try await client.execute(uri: "/dicom-web/studies/2.25.77", method: .delete, headers: asViewer)
            _ = try await client.execute(uri: "/getAllStudies", method: .get)
            _ = try await client.execute(uri: "/app/js/app.js", method: .get)
            _ = try await client.execute(uri: "/healthz", method: .get)
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        let entries = try text.split(separator: "\n").map { try JSONDecoder().decode(AuditLog.Entry.self, from: Data($0.utf8)) }
        #expect(entries.count == 4, "public routes are not audited: \(text)")
        #expect(!text.contains(viewer.token) && !text.contains(clinician.token), "tokens never reach the log")
        #expect(entries[0].action == .read && entries[0].studyInstanceUID == "2.25.77" && entries[0].token == viewer.record.id)
        #expect(entries[0].role == "viewer" && entries[0].status == 503)
        #expect(entries[1].action == .export && entries[1].patientID == "PAT-9" && entries[1].token == clinician.record.id)
        #expect(entries[2].action == .delete && entries[2].status == 403 && entries[2].token == viewer.record.id)
        #expect(entries[3].status == 401 && entries[3].token == nil)
        #expect(entries.allSatisfy { !$0.time.isEmpty })
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int) == 0o640)
    }

    @Test("an entry's line is exactly what JSONEncoder (sorted keys, unescaped slashes) writes, for awkward values too")
    func lineMatchesJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let awkward = "a\"b\\c/d\n\r\t\u{08}\u{0C}\u{01}\u{1F}é😀\u{7F}"
        let entries = [
            AuditLog.Entry(time: "2026-11-26T05:44:25Z", action: .read, method: "GET", path: "/dicom-web/studies/2.25.1", status: 200),
            AuditLog.Entry(
                time: AuditLog.timestamp(), action: .delete, method: "DELETE", path: awkward, studyInstanceUID: awkward, patientID: "Ünï",
                status: 403, token: "t-1", role: "viewer", client: "127.0.0.1"),
        ]
        for entry in entries {
            let expected = String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
            #expect(entry.jsonLine == expected)
            #expect(try JSONDecoder().decode(AuditLog.Entry.self, from: Data(entry.jsonLine.utf8)) == entry)
        }
    }

    @Test("timestamps are ISO 8601 in UTC to the second, as Foundation formats them")
    func timestamps() {
        for seconds in [0.0, 1_764_134_665.9, 951_782_400, 4_102_444_799] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(AuditLog.timestamp(date) == date.formatted(.iso8601))
        }
    }
}
