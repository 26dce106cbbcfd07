public import Foundation

/// The image pixel module of a data set and its frames: native
/// (uncompressed) 8/16/32-bit data, signed or unsigned, single or
/// multi-frame, and every encapsulated syntax Metis has a decoder for (RLE,
/// JPEG, JPEG-LS, JPEG 2000, HTJ2K). Frames of other syntaxes are refused with
/// `unsupportedTransferSyntax` naming the UID; they are still readable as
/// stored (`storedFrame`).
public struct PixelData: Sendable {
    /// The largest decoded frame Metis allocates (1 GiB): a header declaring
    /// more is refused before any decoding.
    public static let maximumDecodedFrameLength = 1 << 30

    public let rows: Int
    public let columns: Int
    public let samplesPerPixel: Int
    public let bitsAllocated: Int
    public let bitsStored: Int
    public let isSigned: Bool
    public let numberOfFrames: Int
    public let photometricInterpretation: String
    /// 0: samples interleaved per pixel; 1: one plane per sample (native data only, as stored).
    public let planarConfiguration: Int
    public let rescaleSlope: Double
    public let rescaleIntercept: Double
    public let transferSyntax: TransferSyntax
    /// Whether the pixels went through lossy compression, now or before (Lossy Image Compression "01" or a lossy syntax).
    public let isLossy: Bool
    private let element: DataElement
    let palette: PaletteLUT?
    private let extendedOffsets: [UInt64]?
    private let extendedLengths: [UInt64]?

    public init(_ dataset: Dataset, transferSyntax: TransferSyntax) throws(DICOMError) {
        guard let element = dataset[.pixelData] else {
            throw DICOMError(.invalidValue, "the data set has no Pixel Data", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
        guard let rows = dataset.int(.rows), let columns = dataset.int(.columns), rows > 0, columns > 0,
            let bitsAllocated = dataset.int(.bitsAllocated), [1, 8, 16, 32].contains(bitsAllocated)
        else {
            throw DICOMError(
                .invalidValue, "Rows, Columns or Bits Allocated missing or invalid", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
        self.rows = rows
        self.columns = columns
        self.bitsAllocated = bitsAllocated
        self.samplesPerPixel = max(1, dataset.int(.samplesPerPixel) ?? 1)
        self.bitsStored = dataset.int(.bitsStored) ?? bitsAllocated
        self.isSigned = dataset.int(.pixelRepresentation) == 1
        self.numberOfFrames = max(1, dataset.int(.numberOfFrames) ?? 1)
        self.photometricInterpretation = dataset.string(.photometricInterpretation) ?? "MONOCHROME2"
        self.planarConfiguration = dataset.int(.planarConfiguration) ?? 0
        self.rescaleSlope = dataset.double(.rescaleSlope) ?? 1
        self.rescaleIntercept = dataset.double(.rescaleIntercept) ?? 0
        self.transferSyntax = transferSyntax
        self.isLossy = transferSyntax.isLossy || dataset.string(.lossyImageCompression) == "01"
        self.element = element
        self.palette = photometricInterpretation == "PALETTE COLOR" ? PaletteLUT(dataset) : nil
        if case .bytes(let offsets)? = dataset[.extendedOffsetTable]?.value,
            case .bytes(let lengths)? = dataset[.extendedOffsetTableLengths]?.value
        {
            extendedOffsets = offsets.littleEndianArray(of: UInt64.self)
            extendedLengths = lengths.littleEndianArray(of: UInt64.self)
        } else {
            extendedOffsets = nil
            extendedLengths = nil
        }
        if case .encapsulated = element.value, frameLength > Self.maximumDecodedFrameLength {
            throw DICOMError(
                .valueTooLarge,
                "a \(columns)×\(rows) frame of \(samplesPerPixel)×\(bitsAllocated) bits is \(frameLength) bytes, "
                    + "above the \(Self.maximumDecodedFrameLength)-byte limit", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
    }

    /// Bytes of one decoded frame in native layout (little endian).
    public var frameLength: Int { (rows * columns * samplesPerPixel * bitsAllocated + 7) / 8 }

    /// Bytes of one frame of native pixel data as stored: YBR_FULL_422 keeps
    /// two luminance and one pair of chrominance samples per two pixels.
    public var storedFrameLength: Int {
        isSubsampledNative ? rows * columns * 2 * (bitsAllocated / 8) : frameLength
    }

    private var isSubsampledNative: Bool {
        guard case .bytes = element.value else { return false }
        return photometricInterpretation == "YBR_FULL_422" && samplesPerPixel == 3 && bitsAllocated % 8 == 0 && columns % 2 == 0
    }

    /// Whether `frameBytes` can decode this pixel data.
    public var isDecodable: Bool {
        guard case .encapsulated = element.value else { return true }
        return FrameDecoders.decoder(for: transferSyntax.uid) != nil && bitsAllocated % 8 == 0
    }

    /// The photometric interpretation of `frameBytes`: as stored, except lossy
    /// YBR JPEG and JPEG 2000's YBR_ICT/YBR_RCT, which decode to RGB, and
    /// native YBR_FULL_422, which is upsampled to YBR_FULL.
    public var decodedPhotometricInterpretation: String {
        if isSubsampledNative { return "YBR_FULL" }
        guard case .encapsulated = element.value, let decoder = FrameDecoders.decoder(for: transferSyntax.uid) else {
            return photometricInterpretation
        }
        return decoder.decodedPhotometricInterpretation(geometry)
    }

    /// The planar configuration of `frameBytes`: decoded frames are always interleaved.
    public var decodedPlanarConfiguration: Int {
        if case .encapsulated = element.value { return 0 }
        return planarConfiguration
    }

    private var geometry: FrameGeometry {
        FrameGeometry(
            rows: rows, columns: columns, samplesPerPixel: samplesPerPixel, bitsAllocated: bitsAllocated, bitsStored: bitsStored,
            isSigned: isSigned, photometricInterpretation: photometricInterpretation, syntax: transferSyntax.uid)
    }

    /// The native bytes of frame `index` (0-based), decoded when encapsulated.
    public func frameBytes(_ index: Int) throws(DICOMError) -> Data {
        guard (0..<numberOfFrames).contains(index) else {
            throw DICOMError(
                .invalidValue, "frame \(index) out of 0..<\(numberOfFrames)", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
        switch element.value {
        case .bytes(let data):
            if bitsAllocated == 1 { return try bitFrame(index, of: data) }
            let length = storedFrameLength
            let start = data.startIndex + index * length
            guard start + length <= data.endIndex else {
                throw DICOMError(
                    .invalidLength,
                    "pixel data holds \(data.count) bytes, frame \(index) needs up to \(start - data.startIndex + length)",
                    tag: .pixelData, transferSyntax: transferSyntax.uid)
            }
            return isSubsampledNative
                ? Self.upsampled422(data[start..<start + length], bytesPerSample: bitsAllocated / 8) : data[start..<start + length]
        case .encapsulated(let encapsulated):
            guard let decoder = FrameDecoders.decoder(for: transferSyntax.uid) else {
                throw DICOMError(
                    .unsupportedTransferSyntax, "no decoder for \(transferSyntax.name) (\(transferSyntax.uid)) pixel data",
                    tag: .pixelData, transferSyntax: transferSyntax.uid)
            }
            guard bitsAllocated % 8 == 0 else {
                throw DICOMError(
                    .invalidValue, "\(bitsAllocated)-bit encapsulated pixel data", tag: .pixelData, transferSyntax: transferSyntax.uid)
            }
            return try decoder.decode(try frames(encapsulated).frame(index), geometry)
        case .sequence:
            throw DICOMError(.invalidStructure, "Pixel Data is a sequence", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
    }

    /// Frame `index` (0-based) as stored: native bytes, or the encoded
    /// fragment(s) of an encapsulated transfer syntax, undecoded.
    public func storedFrame(_ index: Int) throws(DICOMError) -> Data {
        guard case .encapsulated(let encapsulated) = element.value else { return try frameBytes(index) }
        guard (0..<numberOfFrames).contains(index) else {
            throw DICOMError(
                .invalidValue, "frame \(index) out of 0..<\(numberOfFrames)", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
        return try frames(encapsulated).frame(index)
    }

    private func frames(_ encapsulated: EncapsulatedPixelData) -> EncapsulatedFrames {
        EncapsulatedFrames(
            pixels: encapsulated, frames: numberOfFrames, extendedOffsets: extendedOffsets, extendedLengths: extendedLengths,
            syntax: transferSyntax.uid)
    }

    /// A 1-bit frame: frames are packed back to back (least significant bit
    /// first), so a frame may start inside a byte; returned from bit 0.
    private func bitFrame(_ index: Int, of data: Data) throws(DICOMError) -> Data {
        let bits = rows * columns * samplesPerPixel
        let first = index * bits
        guard (first + bits + 7) / 8 <= data.count else {
            throw DICOMError(
                .invalidLength, "pixel data holds \(data.count) bytes, frame \(index) needs \((first + bits + 7) / 8)", tag: .pixelData,
                transferSyntax: transferSyntax.uid)
        }
        if first % 8 == 0 { return data[(data.startIndex + first / 8)..<(data.startIndex + (first + bits + 7) / 8)] }
        var output = [UInt8](repeating: 0, count: (bits + 7) / 8)
        for bit in 0..<bits {
            let source = first + bit
            if data[data.startIndex + source / 8] & (1 << UInt8(source % 8)) != 0 { output[bit / 8] |= 1 << UInt8(bit % 8) }
        }
        return Data(output)
    }

    /// YBR_FULL_422 (Y0 Y1 Cb Cr per pixel pair) to YBR_FULL, interleaved.
    private static func upsampled422(_ data: Data, bytesPerSample: Int) -> Data {
        let source = [UInt8](data)
        var output = [UInt8](repeating: 0, count: source.count / 2 * 3)
        let pair = 4 * bytesPerSample
        var out = 0
        for start in stride(from: 0, to: source.count - pair + 1, by: pair) {
            for luminance in 0..<2 {
                for (sample, offset) in [luminance, 2, 3].enumerated() {
                    for byte in 0..<bytesPerSample {
                        output[out + sample * bytesPerSample + byte] = source[start + offset * bytesPerSample + byte]
                    }
                }
                out += 3 * bytesPerSample
            }
        }
        return Data(output)
    }

    /// The stored values of frame `index`, row by row, with Rescale Slope and Intercept applied when `rescaled`.
    public func frameValues(_ index: Int, rescaled: Bool = false) throws(DICOMError) -> [Double] {
        let bytes = try frameBytes(index)
        let raw: [Double]
        switch (bitsAllocated, isSigned) {
        case (1, _): raw = (0..<(rows * columns * samplesPerPixel)).map { Double(bytes[bytes.startIndex + $0 / 8] >> UInt8($0 % 8) & 1) }
        case (8, false): raw = bytes.map { Double($0) }
        case (8, true): raw = bytes.map { Double(Int8(bitPattern: $0)) }
        case (16, false): raw = bytes.littleEndianArray(of: UInt16.self).map { Double(Self.masked($0, bitsStored)) }
        case (16, true): raw = bytes.littleEndianArray(of: UInt16.self).map { Double(Self.signExtended(UInt32($0), bitsStored)) }
        case (32, false): raw = bytes.littleEndianArray(of: UInt32.self).map { Double(Self.masked($0, bitsStored)) }
        case (32, true): raw = bytes.littleEndianArray(of: UInt32.self).map { Double(Self.signExtended($0, bitsStored)) }
        default:
            throw DICOMError(.invalidValue, "\(bitsAllocated)-bit pixel values are not supported as numbers", tag: .pixelData)
        }
        guard rescaled else { return raw }
        return raw.map { $0 * rescaleSlope + rescaleIntercept }
    }

    private static func masked<T: FixedWidthInteger>(_ value: T, _ bits: Int) -> T {
        bits >= T.bitWidth ? value : value & ((1 << T(bits)) - 1)
    }

    private static func signExtended(_ value: UInt32, _ bits: Int) -> Int64 {
        let bits = min(max(bits, 1), 32)
        let masked = Int64(value) & ((1 << Int64(bits)) - 1)
        return masked >= (1 << Int64(bits - 1)) ? masked - (1 << Int64(bits)) : masked
    }
}
