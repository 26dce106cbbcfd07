public import Foundation

/// The image pixel module of a data set and its frames: native (uncompressed)
/// 8/16/32-bit data, signed or unsigned, single or multi-frame, and RLE
/// Lossless. Other encapsulated syntaxes are refused with
/// `unsupportedTransferSyntax` naming the UID.
public struct PixelData: Sendable {
    public let rows: Int
    public let columns: Int
    public let samplesPerPixel: Int
    public let bitsAllocated: Int
    public let bitsStored: Int
    public let isSigned: Bool
    public let numberOfFrames: Int
    public let photometricInterpretation: String
    public let rescaleSlope: Double
    public let rescaleIntercept: Double
    public let transferSyntax: TransferSyntax
    private let element: DataElement

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
        self.rescaleSlope = dataset.double(.rescaleSlope) ?? 1
        self.rescaleIntercept = dataset.double(.rescaleIntercept) ?? 0
        self.transferSyntax = transferSyntax
        self.element = element
    }

    /// Bytes of one frame in native layout (little endian).
    public var frameLength: Int { (rows * columns * samplesPerPixel * bitsAllocated + 7) / 8 }

    /// The native bytes of frame `index` (0-based), decoded if RLE.
    public func frameBytes(_ index: Int) throws(DICOMError) -> Data {
        guard (0..<numberOfFrames).contains(index) else {
            throw DICOMError(
                .invalidValue, "frame \(index) out of 0..<\(numberOfFrames)", tag: .pixelData, transferSyntax: transferSyntax.uid)
        }
        switch element.value {
        case .bytes(let data):
            let start = data.startIndex + index * frameLength
            guard start + frameLength <= data.endIndex else {
                throw DICOMError(
                    .invalidLength,
                    "pixel data holds \(data.count) bytes, frame \(index) needs up to \(start - data.startIndex + frameLength)",
                    tag: .pixelData, transferSyntax: transferSyntax.uid)
            }
            return data[start..<start + frameLength]
        case .encapsulated(let encapsulated):
            guard transferSyntax.uid == TransferSyntax.rleLossless.uid else {
                throw DICOMError(
                    .unsupportedTransferSyntax, "no decoder for \(transferSyntax.name) (\(transferSyntax.uid)) pixel data",
                    tag: .pixelData, transferSyntax: transferSyntax.uid)
            }
            let fragment = try Self.frameFragment(index, of: encapsulated, frames: numberOfFrames, syntax: transferSyntax.uid)
            return try RLEDecoder.decode(
                fragment, rows: rows, columns: columns, samplesPerPixel: samplesPerPixel, bitsAllocated: bitsAllocated,
                syntax: transferSyntax.uid)
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
        return try Self.frameFragment(index, of: encapsulated, frames: numberOfFrames, syntax: transferSyntax.uid)
    }

    /// The stored values of frame `index`, row by row, with Rescale Slope and Intercept applied when `rescaled`.
    public func frameValues(_ index: Int, rescaled: Bool = false) throws(DICOMError) -> [Double] {
        let bytes = try frameBytes(index)
        let raw: [Double]
        switch (bitsAllocated, isSigned) {
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

    /// The encoded bytes of one frame: one fragment per frame, or fragments grouped by the offset table.
    static func frameFragment(_ index: Int, of pixels: EncapsulatedPixelData, frames: Int, syntax: String) throws(DICOMError) -> Data {
        if pixels.fragments.count == frames { return pixels.fragments[index] }
        let offsets = pixels.basicOffsetTable.littleEndianArray(of: UInt32.self).map(Int.init)
        if frames == 1 { return pixels.fragments.reduce(into: Data()) { $0.append($1) } }
        guard offsets.count == frames else {
            throw DICOMError(
                .invalidStructure, "\(pixels.fragments.count) fragments for \(frames) frames and no usable offset table", tag: .pixelData,
                transferSyntax: syntax)
        }
        // Offsets count item headers: walk the fragments to find those of frame `index`.
        var position = 0
        var frame = Data()
        let start = offsets[index], end = index + 1 < offsets.count ? offsets[index + 1] : Int.max
        for fragment in pixels.fragments {
            if position >= start && position < end { frame.append(fragment) }
            position += 8 + fragment.count
        }
        return frame
    }
}
