public import Foundation
import DICOM
import Synchronization

/// The audit trail: one JSON line per request that touches patient data, in
/// `<data>/gateway/audit.jsonl`, appended (O_APPEND) and never rewritten:
/// when, who (token id and role), from where, what (action, method, path,
/// study and patient identifiers), and the answer's status. Never a patient's
/// name; never a token.
public final class AuditLog: Sendable {
    /// What a request did.
    public enum Action: String, Sendable, Codable {
        case read, upload, segment, export, delete
        /// A DICOM association accepted or refused; instances sent to another AE.
        case associate, send
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var time: String
        public var action: Action
        public var method: String
        public var path: String
        public var studyInstanceUID: String?
        public var patientID: String?
        public var status: Int
        public var token: String?
        public var role: String?
        public var client: String?

        /// The entry as a JSON line, written directly: what `JSONEncoder` with
        /// sorted keys and unescaped slashes writes, without its cost on
        /// every request.
        var jsonLine: String {
            var line = "{\"action\":"
            JSONValue.writeString(action.rawValue, to: &line)
            func member(_ key: String, _ value: String?) {
                guard let value else { return }
                line += ",\"\(key)\":"
                JSONValue.writeString(value, to: &line)
            }
            member("client", client)
            member("method", method)
            member("path", path)
            member("patientID", patientID)
            member("role", role)
            line += ",\"status\":\(status)"
            member("studyInstanceUID", studyInstanceUID)
            member("time", time)
            member("token", token)
            return line + "}\n"
        }
    }

    /// Now, as ISO 8601 to the second in UTC ("2026-11-26T05:44:25Z"), without Foundation's formatter.
    static func timestamp(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    public let file: URL
    private let descriptor: Mutex<Int32>

    public init(file: URL) throws {
        self.file = file
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let opened = open(file.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard opened >= 0 else {
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        descriptor = Mutex(opened)
    }

    deinit { descriptor.withLock { _ = close($0) } }

    /// Appends one entry as one line (a single write, so concurrent entries never interleave).
    public func record(_ entry: Entry) {
        var line = entry.jsonLine
        line.withUTF8 { bytes in
            descriptor.withLock { descriptor in _ = write(descriptor, bytes.baseAddress, bytes.count) }
        }
    }

    /// The action a request stands for.
    static func action(method: String, path: String) -> Action {
        switch method {
        case "DELETE": .delete
        case "POST" where path.hasPrefix("/segmentation/") || path == "/api/v1/segmentations": .segment
        case "POST": .upload
        default: path.hasSuffix("/export.csv") || path.hasSuffix("/export.json") ? .export : .read
        }
    }

    /// The StudyInstanceUID and PatientID a path names, where it names them.
    static func subjects(of path: String) -> (study: String?, patient: String?) {
        let parts = path.split(separator: "/").map(String.init)
        func after(_ name: String) -> String? {
            guard let index = parts.firstIndex(of: name), index + 1 < parts.count else { return nil }
            return parts[index + 1].removingPercentEncoding ?? parts[index + 1]
        }
        let study = after("studies") ?? after("segmentation") ?? after("delete-study") ?? after("getStudy") ?? after("getStudyDicoms")
        return (study.flatMap { $0.isEmpty ? nil : $0 }, parts.starts(with: ["api", "v1", "patients"]) ? after("patients") : nil)
    }
}
