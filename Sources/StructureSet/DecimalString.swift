import Foundation

/// DS values (PS3.5 §6.2): at most 16 characters, so coordinates are written
/// with as many decimals as fit.
enum DecimalString {
    static func format(_ value: Double) -> String {
        let value = value == 0 ? 0 : value  // no "-0"
        for decimals in stride(from: 6, through: 0, by: -1) {
            var text = String(format: "%.\(decimals)f", value)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            if text == "-0" { text = "0" }
            if text.count <= 16 { return text }
        }
        return String(format: "%.6e", value)
    }

    static func join(_ values: [Double]) -> String { values.map(format).joined(separator: "\\") }
}
