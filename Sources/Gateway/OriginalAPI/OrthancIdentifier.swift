import Digest
import Foundation

/// The identifiers Orthanc gives patients, studies, series and instances:
/// SHA-1 of the UIDs joined by "|", as five dash-separated groups of eight hex
/// digits. The original prototype's routes and its viewer extension pass them
/// around, so Metis computes the same ones: stable, and derived from the UIDs.
enum OrthancIdentifier {
    static func patient(_ patientID: String) -> String { hash(patientID) }
    static func study(patientID: String, study: String) -> String { hash("\(patientID)|\(study)") }
    static func series(patientID: String, study: String, series: String) -> String { hash("\(patientID)|\(study)|\(series)") }
    static func instance(patientID: String, study: String, series: String, instance: String) -> String {
        hash("\(patientID)|\(study)|\(series)|\(instance)")
    }

    /// Whether `text` has the shape of such an identifier.
    static func isIdentifier(_ text: String) -> Bool {
        text.count == 44 && text.split(separator: "-").map(\.count) == [8, 8, 8, 8, 8] && text.allSatisfy { $0.isHexDigit || $0 == "-" }
    }

    private static func hash(_ text: String) -> String {
        let hex = Digest.sha1(text)
        return stride(from: 0, to: 40, by: 8).map { offset in
            String(hex[hex.index(hex.startIndex, offsetBy: offset)..<hex.index(hex.startIndex, offsetBy: offset + 8)])
        }.joined(separator: "-")
    }
}
