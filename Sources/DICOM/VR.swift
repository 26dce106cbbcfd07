/// A DICOM value representation (PS3.5 §6.2), e.g. `PN`, `US`, `SQ`.
public struct VR: Hashable, Sendable, CustomStringConvertible {
    /// The two ASCII characters packed big-endian, as on the wire.
    public let code: UInt16

    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 2 else { return nil }
        self.init(bytes[0], bytes[1])
        guard Self.all.contains(self) else { return nil }
    }

    init(_ first: UInt8, _ second: UInt8) {
        code = UInt16(first) << 8 | UInt16(second)
    }

    /// The VR a two-byte explicit-VR field names, if it is a known one.
    static func known(_ first: UInt8, _ second: UInt8) -> VR? {
        let vr = VR(first, second)
        return all.contains(vr) ? vr : nil
    }

    public var description: String {
        String(decoding: [UInt8(code >> 8), UInt8(code & 0xFF)], as: UTF8.self)
    }

    public static let AE = VR(0x41, 0x45), AS = VR(0x41, 0x53), AT = VR(0x41, 0x54), CS = VR(0x43, 0x53)
    public static let DA = VR(0x44, 0x41), DS = VR(0x44, 0x53), DT = VR(0x44, 0x54), FD = VR(0x46, 0x44)
    public static let FL = VR(0x46, 0x4C), IS = VR(0x49, 0x53), LO = VR(0x4C, 0x4F), LT = VR(0x4C, 0x54)
    public static let OB = VR(0x4F, 0x42), OD = VR(0x4F, 0x44), OF = VR(0x4F, 0x46), OL = VR(0x4F, 0x4C)
    public static let OV = VR(0x4F, 0x56), OW = VR(0x4F, 0x57), PN = VR(0x50, 0x4E), SH = VR(0x53, 0x48)
    public static let SL = VR(0x53, 0x4C), SQ = VR(0x53, 0x51), SS = VR(0x53, 0x53), ST = VR(0x53, 0x54)
    public static let SV = VR(0x53, 0x56), TM = VR(0x54, 0x4D), UC = VR(0x55, 0x43), UI = VR(0x55, 0x49)
    public static let UL = VR(0x55, 0x4C), UN = VR(0x55, 0x4E), UR = VR(0x55, 0x52), US = VR(0x55, 0x53)
    public static let UT = VR(0x55, 0x54), UV = VR(0x55, 0x56)

    public static let all: Set<VR> = [
        AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI,
        UL, UN, UR, US, UT, UV,
    ]

    /// Explicit-VR encodings give these a 2-byte reserved field and a 4-byte length.
    public var hasLongLength: Bool {
        switch self {
        case .OB, .OD, .OF, .OL, .OV, .OW, .SQ, .SV, .UC, .UN, .UR, .UT, .UV: true
        default: false
        }
    }

    /// Character string VRs, whose values are text (padded with a space).
    public var isText: Bool {
        switch self {
        case .AE, .AS, .CS, .DA, .DS, .DT, .IS, .LO, .LT, .PN, .SH, .ST, .TM, .UC, .UI, .UR, .UT: true
        default: false
        }
    }

    /// Text VRs that may hold several values separated by backslashes.
    public var isMultiValuedText: Bool { isText && self != .LT && self != .ST && self != .UT && self != .UR }

    /// Text VRs decoded with the Specific Character Set (the others are ASCII).
    public var usesCharacterSet: Bool {
        switch self {
        case .LO, .LT, .PN, .SH, .ST, .UC, .UT: true
        default: false
        }
    }

    /// Byte size of one binary number, for the numeric VRs (and AT).
    public var numberSize: Int? {
        switch self {
        case .SS, .US, .OW: 2
        case .SL, .UL, .FL, .OF, .OL, .AT: 4
        case .FD, .OD, .SV, .UV, .OV: 8
        default: nil
        }
    }

    /// The byte an odd-length value is padded with.
    public var paddingByte: UInt8 {
        isText && self != .UI ? 0x20 : 0x00
    }
}
