import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MetisRPC
import Testing

@testable import Gateway

/// Every route of the gateway × every role, through the real middleware stack
/// (no services behind it: a request that gets past authentication ends in a
/// 404 or 503 from the route, which the table shows as "yes"). The table is
/// `docs/security.md`'s; the test fails when the document is stale
/// (`METIS_WRITE_SECURITY_TABLE=1 swift test --filter SecurityReview` rewrites it).
@Suite("security review: routes × roles")
struct SecurityReviewTests {
    static let routes: [(HTTPRequest.Method, String)] = [
        (.get, "/"), (.get, "/studies"), (.get, "/viewer/2.25.1"), (.get, "/tracking"), (.get, "/tracking/PAT-1"), (.get, "/app/js/app.js"),
        (.get, "/healthz"), (.get, "/metrics"), (.get, "/api/v1/session"),
        (.get, "/dicom-web/studies"), (.get, "/dicom-web/series"), (.get, "/dicom-web/instances"),
        (.get, "/dicom-web/studies/2.25.1/series"), (.get, "/dicom-web/studies/2.25.1/instances"),
        (.get, "/dicom-web/studies/2.25.1/series/2.25.2/instances"), (.get, "/dicom-web/studies/2.25.1"),
        (.get, "/dicom-web/studies/2.25.1/metadata"), (.get, "/dicom-web/studies/2.25.1/series/2.25.2/metadata"),
        (.get, "/dicom-web/studies/2.25.1/series/2.25.2/instances/2.25.3/frames/1"),
        (.get, "/dicom-web/studies/2.25.1/series/2.25.2/instances/2.25.3/bulk/7FE00010"),
        (.get, "/dicom-web/studies/2.25.1/thumbnail"), (.get, "/dicom-web/studies/2.25.1/rendered"),
        (.post, "/dicom-web/studies"), (.post, "/dicom-web/studies/2.25.1"),
        (.delete, "/dicom-web/studies/2.25.1"), (.delete, "/dicom-web/studies/2.25.1/series/2.25.2"),
        (.get, "/getAllStudies"), (.get, "/getStudy/2.25.1"), (.get, "/getStudyDicoms/2.25.1"), (.post, "/uploadDicom"),
        (.delete, "/delete-study/2.25.1"),
        (.post, "/segmentation/2.25.1"), (.post, "/api/v1/segmentations"), (.get, "/api/v1/segmentations"),
        (.get, "/api/v1/segmentations/1"),
        (.get, "/api/v1/segmentations/1/events"), (.get, "/api/v1/arrivals"), (.post, "/api/v1/remote/PACS/query"),
        (.post, "/api/v1/remote/PACS/retrieve"),
        (.get, "/api/v1/patients"), (.get, "/api/v1/patients/PAT-1/timeline"), (.get, "/api/v1/patients/PAT-1/studies"),
        (.get, "/api/v1/studies/2.25.1/lesions"), (.get, "/api/v1/patients/PAT-1/export.csv"), (.get, "/api/v1/patients/PAT-1/export.json"),
        (.get, "/api/v1/export.csv"), (.get, "/api/v1/export.json"),
        (.get, "/followup-patients"), (.get, "/followup-etudes"), (.get, "/followup-metastases"),
    ]

    @Test("each route answers 401 without a token, 403 below its role, and passes at or above it; docs/security.md holds this table")
    func table() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-review-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = TokenStore(file: directory.appendingPathComponent("tokens.json"))
        var created = [String: String]()
        for role in AccessRole.allCases { created[role.rawValue] = try store.create(role: role, label: "review").token }
        let tokens = created
        let nowhere = RPCAddress.unix(path: directory.appendingPathComponent("nothing.sock").path)
        let app = try Gateway.build(
            configuration: GatewayConfiguration(
                storage: nowhere, tracking: nowhere, inference: [nowhere], healthTimeout: .milliseconds(200), version: "review",
                tokens: store,
                arrivals: ArrivalSettings(
                    rules: [], stableSeconds: 60, retrySeconds: 30, file: directory.appendingPathComponent("arrivals.json"),
                    aeTitle: "METIS",
                    peers: [])),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let columns = ["no token", "unknown token"] + AccessRole.allCases.map(\.rawValue)
        let rows = try await app.test(.router) { client in
            var rows = [String]()
            for (method, path) in Self.routes {
                var cells = [String]()
                for column in columns {
                    var headers = HTTPFields()
                    if column == "unknown token" { headers[.authorization] = "Bearer metis_not-a-token" }
                    if let token = tokens[column] { headers[.authorization] = "Bearer \(token)" }
                    let status = try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer()) { $0.status }
                    let required = AccessPolicy.requiredRole(method: method, path: path)
                    let role = AccessRole(rawValue: column)
                    let expected: HTTPResponse.Status? =
                        required == nil ? nil : role == nil ? .unauthorized : role! < required! ? .forbidden : nil
                    if let expected {
                        #expect(status == expected, "\(method) \(path) as \(column): \(status)")
                    } else {
                        #expect(status != .unauthorized && status != .forbidden, "\(method) \(path) as \(column): \(status)")
                    }
                    cells.append(status == .unauthorized ? "401" : status == .forbidden ? "403" : "yes")
                }
                rows.append("| `\(method.rawValue) \(path)` | " + cells.joined(separator: " | ") + " |")
            }
            return rows
        }
        let table =
            (["| route | " + columns.joined(separator: " | ") + " |", "| --- |" + String(repeating: " --- |", count: columns.count)] + rows)
            .joined(separator: "\n")
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/security.md")
        let begin = "<!-- security-table: generated by Tests/GatewayTests/SecurityReviewTests.swift -->",
            end = "<!-- end security-table -->"
        var text = (try? String(contentsOf: document, encoding: .utf8)) ?? ""
        let generated = begin + "\n" + table + "\n" + end
        if ProcessInfo.processInfo.environment["METIS_WRITE_SECURITY_TABLE"] == "1" {
            if let start = text.range(of: begin), let stop = text.range(of: end) {
                text.replaceSubrange(start.lowerBound..<stop.upperBound, with: generated)
            } else {
                text += "\n" + generated + "\n"
            }
            try text.write(to: document, atomically: true, encoding: .utf8)
        }
        #expect(
            text.contains(generated),
            "docs/security.md's table is stale: run METIS_WRITE_SECURITY_TABLE=1 swift test --filter SecurityReview")
    }
}
