import Foundation

/// DICOM unique identifiers.
public enum UID {
    /// Metis's implementation class UID (in the `2.25` UUID arc, fixed for this implementation).
    public static let implementationClass = "2.25.166273470125011838916574516823412473561"
    /// Implementation Version Name written in the meta group.
    public static let implementationVersionName = "METIS_0_1"

    /// A new UID under `2.25.` + a random UUID as a decimal integer (PS3.5 §B.2).
    public static func make() -> String {
        let uuid = UUID().uuid
        var bytes = [
            uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7,
            uuid.8, uuid.9, uuid.10, uuid.11, uuid.12, uuid.13, uuid.14, uuid.15,
        ]
        return "2.25." + decimal(of: &bytes)
    }

    /// The decimal digits of a big-endian unsigned integer.
    static func decimal(of bytes: inout [UInt8]) -> String {
        var digits = [Character]()
        while bytes.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in bytes.indices {
                let value = remainder << 8 | Int(bytes[index])
                bytes[index] = UInt8(value / 10)
                remainder = value % 10
            }
            digits.append(Character(String(remainder)))
        }
        return digits.isEmpty ? "0" : String(digits.reversed())
    }

    /// Whether `text` can stand for an object though it breaks PS3.5 §9.1 (leading zeros, letters, dashes),
    /// as pydicom and Orthanc accept: 1 to 64 characters, each a letter, digit, '.', '-' or '_'.
    public static func isUsable(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0))
            }
    }

    /// Whether `text` is a valid UID: ≤ 64 characters, dot-separated numbers without leading zeros.
    public static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component.allSatisfy(\.isASCIIDigit) && (component == "0" || component.first != "0")
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
