import MetisProto
import NIOCore

/// The patient list as JSON, written directly into bytes: a list of ten
/// thousand patients is the follow-up's largest answer, and the generic
/// encoders (SwiftProtobuf's JSON visitor, Foundation's `JSONEncoder`) spend
/// most of its time escaping strings. The text is the same those encoders give.
enum PatientListJSON {
    /// `/api/v1/patients`: the protobuf JSON mapping of `PatientList` (fields in
    /// number order, default values left out, int64 as numbers; the revision is the ETag, not in the body).
    static func protobuf(_ list: Metis_V1_PatientList) -> ByteBuffer {
        var writer = Writer(capacity: 64 + list.patients.count * 160)
        writer.raw("{")
        if !list.patients.isEmpty {
            writer.raw("\"patients\":[")
            for (index, patient) in list.patients.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.raw("{")
                var first = true
                writer.member("key", patient.key, skipZero: true, first: &first)
                writer.member("patientId", patient.patientID, skipEmpty: true, first: &first)
                writer.member("patientName", patient.patientName, skipEmpty: true, first: &first)
                writer.member("birthDate", patient.birthDate, skipEmpty: true, first: &first)
                writer.member("sex", patient.sex, skipEmpty: true, first: &first)
                writer.member("studies", Int64(patient.studies), skipZero: true, first: &first)
                writer.member("firstStudyDate", patient.firstStudyDate, skipEmpty: true, first: &first)
                writer.member("lastStudyDate", patient.lastStudyDate, skipEmpty: true, first: &first)
                writer.raw("}")
            }
            writer.raw("]")
        }
        var first = list.patients.isEmpty
        writer.member("total", Int64(clamping: list.total), skipZero: true, first: &first)
        writer.raw("}")
        return writer.buffer
    }

    /// `/followup-patients`: the original `patient` table's keys (`idPatient`, `nom`, `dateNaissance`, `sexe`)
    /// plus `patientID`, which the /api/v1 routes take; keys sorted, every key present.
    static func original(_ patients: [Metis_V1_TrackedPatient]) -> ByteBuffer {
        var writer = Writer(capacity: 2 + patients.count * 120)
        writer.raw("[")
        for (index, patient) in patients.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{")
            var first = true
            writer.member("dateNaissance", OriginalStudy.isoDate(patient.birthDate), skipEmpty: false, first: &first)
            writer.member("idPatient", patient.key, skipZero: false, first: &first)
            writer.member("nom", patient.patientName, skipEmpty: false, first: &first)
            writer.member("patientID", patient.patientID, skipEmpty: false, first: &first)
            writer.member("sexe", patient.sex, skipEmpty: false, first: &first)
            writer.raw("}")
        }
        writer.raw("]")
        return writer.buffer
    }

    /// Appends to memory it owns, grown by doubling; `buffer` copies the text out once.
    private struct Writer: ~Copyable {
        private var start: UnsafeMutablePointer<UInt8>
        private var count = 0
        private var capacity: Int

        init(capacity: Int) {
            self.capacity = max(capacity, 64)
            start = .allocate(capacity: self.capacity)
        }

        deinit { start.deallocate() }

        var buffer: ByteBuffer { ByteBuffer(bytes: UnsafeBufferPointer(start: start, count: count)) }

        mutating func raw(_ text: StaticString) { append(text.utf8Start, text.utf8CodeUnitCount) }

        mutating func member(_ key: StaticString, _ value: String, skipEmpty: Bool, first: inout Bool) {
            guard !(skipEmpty && value.isEmpty) else { return }
            name(key, first: &first)
            string(value)
        }

        mutating func member(_ key: StaticString, _ value: Int64, skipZero: Bool, first: inout Bool) {
            guard !(skipZero && value == 0) else { return }
            name(key, first: &first)
            var digits = String(value)
            digits.withUTF8 { append($0.baseAddress!, $0.count) }
        }

        private mutating func name(_ key: StaticString, first: inout Bool) {
            raw(first ? "\"" : ",\"")
            first = false
            raw(key)
            raw("\":")
        }

        /// A JSON string literal, escaping only what JSON requires; other characters as UTF-8.
        private mutating func string(_ value: String) {
            raw("\"")
            var value = value
            value.withUTF8 { utf8 in
                guard let base = utf8.baseAddress else { return }
                var run = 0
                for index in 0..<utf8.count {
                    let byte = utf8[index]
                    guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                    append(base + run, index - run)
                    run = index + 1
                    switch byte {
                    case UInt8(ascii: "\""): raw("\\\"")
                    case UInt8(ascii: "\\"): raw("\\\\")
                    case UInt8(ascii: "\n"): raw("\\n")
                    case UInt8(ascii: "\r"): raw("\\r")
                    case UInt8(ascii: "\t"): raw("\\t")
                    case 0x08: raw("\\b")
                    case 0x0C: raw("\\f")
                    default:
                        let hex: StaticString = "0123456789abcdef"
                        raw("\\u00")
                        append(hex.utf8Start + Int(byte >> 4), 1)
                        append(hex.utf8Start + Int(byte & 0xF), 1)
                    }
                }
                append(base + run, utf8.count - run)
            }
            raw("\"")
        }

        private mutating func append(_ bytes: UnsafePointer<UInt8>, _ length: Int) {
            if count + length > capacity {
                let grown = max(capacity * 2, count + length)
                let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
                moved.update(from: start, count: count)
                start.deallocate()
                start = moved
                capacity = grown
            }
            (start + count).update(from: bytes, count: length)
            count += length
        }
    }
}
