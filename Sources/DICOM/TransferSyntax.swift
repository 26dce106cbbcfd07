/// How a data set is encoded (PS3.5 §10): VR explicit or implicit, byte order,
/// deflate, and whether the pixel data is encapsulated (compressed).
public struct TransferSyntax: Hashable, Sendable, CustomStringConvertible {
    public let uid: String
    public let name: String
    public let isExplicitVR: Bool
    public let isLittleEndian: Bool
    public let isDeflated: Bool
    public let isEncapsulated: Bool

    public var description: String { "\(name) (\(uid))" }

    /// Whether Metis decodes pixel data in this syntax (native, or an encapsulated syntax it has a decoder for).
    public var isDecodable: Bool { !isEncapsulated || FrameDecoders.decoder(for: uid) != nil }

    /// Whether the syntax may lose information (JPEG lossy, JPEG-LS near-lossless, JPEG 2000 and HTJ2K lossy).
    public var isLossy: Bool {
        ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"]
            .contains(uid)
    }

    public static let implicitVRLittleEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2", name: "Implicit VR Little Endian", isExplicitVR: false, isLittleEndian: true, isDeflated: false,
        isEncapsulated: false)
    public static let explicitVRLittleEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2.1", name: "Explicit VR Little Endian", isExplicitVR: true, isLittleEndian: true, isDeflated: false,
        isEncapsulated: false)
    public static let deflatedExplicitVRLittleEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2.1.99", name: "Deflated Explicit VR Little Endian", isExplicitVR: true, isLittleEndian: true,
        isDeflated: true, isEncapsulated: false)
    public static let explicitVRBigEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2.2", name: "Explicit VR Big Endian", isExplicitVR: true, isLittleEndian: false, isDeflated: false,
        isEncapsulated: false)
    public static let rleLossless = encapsulated("1.2.840.10008.1.2.5", "RLE Lossless")
    public static let jpegLSLossless = encapsulated("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless")

    /// Explicit and Implicit VR Little Endian: what every DICOM application reads, and what Metis decodes any readable instance to.
    public static let nativeLittleEndian: [TransferSyntax] = [.explicitVRLittleEndian, .implicitVRLittleEndian]

    /// Every syntax Metis reads data sets in: the four native ones and each encapsulated one it has a decoder for.
    public static var readable: [TransferSyntax] {
        [.explicitVRLittleEndian, .implicitVRLittleEndian, .deflatedExplicitVRLittleEndian, .explicitVRBigEndian]
            + encapsulatedSyntaxes.filter(\.isDecodable)
    }

    /// The encapsulated syntaxes Metis recognises by name.
    public static let encapsulatedSyntaxes: [TransferSyntax] = [
        encapsulated("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
        encapsulated("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
        encapsulated("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
        encapsulated("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction"),
        jpegLSLossless,
        encapsulated("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)"),
        encapsulated("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"),
        encapsulated("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"),
        encapsulated("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"),
        encapsulated("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"),
        encapsulated("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
        rleLossless,
    ]

    private static func encapsulated(_ uid: String, _ name: String) -> TransferSyntax {
        TransferSyntax(uid: uid, name: name, isExplicitVR: true, isLittleEndian: true, isDeflated: false, isEncapsulated: true)
    }

    /// The syntax of `uid`. Unknown UIDs are read as the standard requires of
    /// every syntax not listed: explicit VR little endian, encapsulated pixel data.
    public init(uid: String) {
        let known =
            [Self.implicitVRLittleEndian, .explicitVRLittleEndian, .deflatedExplicitVRLittleEndian, .explicitVRBigEndian]
            + Self.encapsulatedSyntaxes
        if let match = known.first(where: { $0.uid == uid }) {
            self = match
        } else {
            self = TransferSyntax(
                uid: uid, name: "unknown transfer syntax", isExplicitVR: true, isLittleEndian: true, isDeflated: false, isEncapsulated: true
            )
        }
    }

    /// The same syntax read with implicit VR: for data sets whose writer mislabelled them.
    var withImplicitVR: TransferSyntax {
        TransferSyntax(
            uid: uid, name: name, isExplicitVR: false, isLittleEndian: isLittleEndian, isDeflated: isDeflated,
            isEncapsulated: isEncapsulated)
    }

    private init(uid: String, name: String, isExplicitVR: Bool, isLittleEndian: Bool, isDeflated: Bool, isEncapsulated: Bool) {
        self.uid = uid
        self.name = name
        self.isExplicitVR = isExplicitVR
        self.isLittleEndian = isLittleEndian
        self.isDeflated = isDeflated
        self.isEncapsulated = isEncapsulated
    }
}
