import Foundation

/// RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then
/// PackBits segments, one per byte of each sample, most significant first.
struct RLEDecoder: FrameDecoder {
    func decode(_ frame: Data, _ geometry: FrameGeometry) throws(DICOMError) -> Data {
        try Self.decode(
            frame, rows: geometry.rows, columns: geometry.columns, samplesPerPixel: geometry.samplesPerPixel,
            bitsAllocated: geometry.bitsAllocated, syntax: geometry.syntax)
    }

    static func decode(
        _ fragment: Data, rows: Int, columns: Int, samplesPerPixel: Int, bitsAllocated: Int, syntax: String
    ) throws(DICOMError) -> Data {
        let bytes = [UInt8](fragment)
        let fail = { (message: String) in DICOMError(.invalidValue, "RLE: \(message)", tag: .pixelData, transferSyntax: syntax) }
        guard bytes.count >= 64 else { throw fail("frame shorter than its 64-byte header") }
        let header = Data(bytes[0..<64]).littleEndianArray(of: UInt32.self).map(Int.init)
        let segmentCount = header[0]
        let bytesPerSample = bitsAllocated / 8
        guard segmentCount == samplesPerPixel * bytesPerSample, (1...15).contains(segmentCount) else {
            throw fail("\(segmentCount) segments for \(samplesPerPixel) samples of \(bitsAllocated) bits")
        }
        let pixels = rows * columns
        // PackBits expands at most 64-fold: refuse sizes the fragment cannot back before allocating.
        guard pixels * segmentCount <= bytes.count * 64 else {
            throw fail("\(rows)×\(columns) pixels cannot come from a \(bytes.count)-byte frame")
        }
        var output = [UInt8](repeating: 0, count: pixels * segmentCount)
        for segment in 0..<segmentCount {
            let start = header[1 + segment]
            let end = segment + 1 < segmentCount ? header[2 + segment] : bytes.count
            guard start >= 64, start <= end, end <= bytes.count else { throw fail("segment \(segment) offsets out of range") }
            // Segment order: sample 0 MSB..LSB, sample 1 MSB..LSB; output little endian, samples interleaved.
            let sample = segment / bytesPerSample
            let byteInSample = bytesPerSample - 1 - segment % bytesPerSample
            let stride = segmentCount
            var outIndex = sample * bytesPerSample + byteInSample
            var written = 0
            var position = start
            while position < end && written < pixels {
                let control = Int8(bitPattern: bytes[position])
                position += 1
                if control >= 0 {
                    let count = Int(control) + 1
                    guard position + count <= end else { throw fail("literal run past the end of segment \(segment)") }
                    for offset in 0..<min(count, pixels - written) {
                        output[outIndex] = bytes[position + offset]
                        outIndex += stride
                    }
                    written += min(count, pixels - written)
                    position += count
                } else if control != -128 {
                    let count = 1 - Int(control)
                    guard position < end else { throw fail("repeat run past the end of segment \(segment)") }
                    let value = bytes[position]
                    position += 1
                    for _ in 0..<min(count, pixels - written) {
                        output[outIndex] = value
                        outIndex += stride
                    }
                    written += min(count, pixels - written)
                }
            }
            guard written == pixels else { throw fail("segment \(segment) decodes to \(written) of \(pixels) bytes") }
        }
        return Data(output)
    }
}
