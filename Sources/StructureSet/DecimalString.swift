/// DS values (PS3.5 §6.2): at most 16 characters. Coordinates are written
/// with up to four decimals (0.1 µm), trailing zeros dropped — written by hand,
/// as `String(format:)` dominated the encoding of large structure sets.
enum DecimalString {
    static func format(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e11 else { return "0" }
        let scaled = Int64((value * 10_000).rounded())
        if scaled == 0 { return "0" }
        let magnitude = scaled.magnitude
        var text = scaled < 0 ? "-" : ""
        text += String(magnitude / 10_000)
        var fraction = magnitude % 10_000
        if fraction > 0 {
            var digits = 4
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    static func join(_ values: [Double]) -> String { values.map(format).joined(separator: "\\") }
}
