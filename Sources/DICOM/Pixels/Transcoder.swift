import CPixelCodecs
public import Foundation

/// Rewrites an instance in another transfer syntax, for clients that cannot
/// read the stored one (PS3.18 §8.7.3): decoded to Explicit or Implicit VR
/// Little Endian from any syntax Metis decodes, or re-encoded as JPEG-LS
/// Lossless. Metis encodes losslessly only, so the SOP Instance UID stays;
/// an instance that went through lossy compression keeps saying so (Lossy
/// Image Compression "01", its ratio and method).
public enum Transcoder {
    /// The syntaxes Metis can produce from any decodable instance.
    public static let producible: [TransferSyntax] = [.explicitVRLittleEndian, .implicitVRLittleEndian, .jpegLSLossless]

    /// The first of `wanted` (UIDs, "*" the stored syntax) this instance can
    /// be sent in, or nil when none.
    public static func choose(_ wanted: [String], stored: TransferSyntax, decodable: Bool) -> TransferSyntax? {
        for uid in wanted {
            if uid == "*" || uid == stored.uid { return stored }
            if decodable, let syntax = producible.first(where: { $0.uid == uid }) { return syntax }
        }
        return nil
    }

    /// `file` as a Part 10 file in `target`; the original bytes are the caller's to keep when `target` is the stored syntax.
    public static func transcode(_ file: DICOMFile, to target: TransferSyntax) throws(DICOMError) -> Data {
        guard producible.contains(target) else {
            throw DICOMError(
                .unsupportedTransferSyntax,
                "Metis transcodes to \(producible.map(\.uid).joined(separator: ", ")), not \(target.uid)", transferSyntax: target.uid)
        }
        var dataset = file.dataset
        guard dataset[.pixelData] != nil else { return try DICOMWriter.write(dataset, transferSyntax: target) }
        let pixels = try PixelData(dataset, transferSyntax: file.transferSyntax)
        var frames = [Data]()
        for index in 0..<pixels.numberOfFrames { frames.append(try frame(index, of: pixels, in: target)) }
        if target == .jpegLSLossless {
            dataset[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(basicOffsetTable: Data(), fragments: frames)))
        } else {
            var joined = Data(capacity: frames.reduce(0) { $0 + $1.count })
            for frame in frames { joined.append(frame) }
            if joined.count % 2 == 1 { joined.append(0) }
            dataset[.pixelData] = DataElement(tag: .pixelData, vr: pixels.bitsAllocated > 8 ? .OW : .OB, value: .bytes(joined))
        }
        dataset[.photometricInterpretation] = .text(.photometricInterpretation, .CS, pixels.decodedPhotometricInterpretation)
        if pixels.samplesPerPixel > 1 {
            dataset[.planarConfiguration] = DataElement(tag: .planarConfiguration, vr: .US, value: .bytes(Data(littleEndian: UInt16(0))))
        }
        dataset[.extendedOffsetTable] = nil
        dataset[.extendedOffsetTableLengths] = nil
        if pixels.isLossy {
            dataset[.lossyImageCompression] = .text(.lossyImageCompression, .CS, "01")
            if dataset[.lossyImageCompressionMethod] == nil, let method = lossyMethod(file.transferSyntax) {
                dataset[.lossyImageCompressionMethod] = .text(.lossyImageCompressionMethod, .CS, method)
            }
        }
        return try DICOMWriter.write(dataset, transferSyntax: target)
    }

    /// Frame `index` in `target`: decoded native bytes, or a JPEG-LS Lossless stream.
    public static func frame(_ index: Int, of pixels: PixelData, in target: TransferSyntax) throws(DICOMError) -> Data {
        let native = try pixels.frameBytes(index)
        return target == .jpegLSLossless ? try encodeJPEGLS(native, pixels) : native
    }

    private static func lossyMethod(_ syntax: TransferSyntax) -> String? {
        switch syntax.uid {
        case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51": "ISO_10918_1"
        case "1.2.840.10008.1.2.4.81": "ISO_14495_1"
        case "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203": "ISO_15444_1"
        default: nil
        }
    }

    private static func encodeJPEGLS(_ native: Data, _ pixels: PixelData) throws(DICOMError) -> Data {
        let bytes = max(1, pixels.bitsAllocated / 8)
        guard bytes <= 2, pixels.bitsStored >= 2 else {
            throw DICOMError(
                .unsupportedTransferSyntax, "JPEG-LS holds 2 to 16 bits per sample, not \(pixels.bitsStored) in \(pixels.bitsAllocated)",
                transferSyntax: TransferSyntax.jpegLSLossless.uid)
        }
        // JPEG-LS codes unsigned samples of the stored precision.
        var samples = native
        let mask: UInt16 = pixels.bitsStored >= 16 ? 0xFFFF : UInt16((1 << pixels.bitsStored) - 1)
        samples.withUnsafeMutableBytes { raw in
            if bytes == 1 {
                for i in raw.indices { raw[i] &= UInt8(truncatingIfNeeded: mask) }
            } else {
                let words = raw.bindMemory(to: UInt16.self)
                for i in words.indices { words[i] = (UInt16(littleEndian: words[i]) & mask).littleEndian }
            }
        }
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let precision = Int32(min(pixels.bitsStored, bytes * 8))
        let status = samples.withUnsafeBytes { raw in
            metis_jls_encode_lossless(
                raw.bindMemory(to: UInt8.self).baseAddress, Int32(pixels.columns), Int32(pixels.rows), Int32(pixels.samplesPerPixel),
                precision,
                Int32(bytes), &output, &length, &message, message.count)
        }
        defer { free(output) }
        guard status == METIS_CODEC_OK, let output else {
            let text = CodecCall.message(in: message)
            throw DICOMError(
                .invalidValue, "JPEG-LS encoding failed: \(text)", tag: .pixelData, transferSyntax: TransferSyntax.jpegLSLossless.uid)
        }
        var stream = Data(bytes: output, count: length)
        if stream.count % 2 == 1 { stream.append(0) }
        return stream
    }
}
