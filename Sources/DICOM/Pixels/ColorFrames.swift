import Foundation

/// A palette colour lookup table (PS3.3 C.7.6.3.1.5): first stored value
/// mapped, entry count (0 meaning 65536), bits per entry, and the entries.
struct PaletteLUT: Sendable {
    var firstValue: Int
    var entries: [[UInt16]]
    var bits: Int

    init?(_ dataset: Dataset) {
        let descriptors: [Tag] = [
            .redPaletteColorLookupTableDescriptor, .greenPaletteColorLookupTableDescriptor,
            .bluePaletteColorLookupTableDescriptor,
        ]
        let data: [Tag] = [.redPaletteColorLookupTableData, .greenPaletteColorLookupTableData, .bluePaletteColorLookupTableData]
        guard let descriptor = dataset.numbers(descriptors[0]), descriptor.count == 3 else { return nil }
        let count = descriptor[0] == 0 ? 65536 : Int(descriptor[0])
        firstValue = Int(descriptor[1])
        bits = Int(descriptor[2])
        var entries = [[UInt16]]()
        for tag in data {
            guard case .bytes(let bytes)? = dataset[tag]?.value else { return nil }
            let values: [UInt16] =
                bits == 8 && bytes.count == count ? bytes.map { UInt16($0) } : bytes.littleEndianArray(of: UInt16.self)
            guard values.count >= count else { return nil }
            entries.append(Array(values.prefix(count)))
        }
        self.entries = entries
    }

    /// The 8-bit colour of a stored value.
    func color(_ value: Int) -> (UInt8, UInt8, UInt8) {
        let index = min(max(value - firstValue, 0), entries[0].count - 1)
        let shift = bits > 8 ? bits - 8 : 0
        return (UInt8(entries[0][index] >> shift), UInt8(entries[1][index] >> shift), UInt8(entries[2][index] >> shift))
    }
}

extension PixelData {
    /// Frame `index` as 8-bit RGB for display, interleaved: RGB as is (scaled
    /// from Bits Stored), YBR_FULL converted by PS3.3 C.7.6.3.1.2, PALETTE
    /// COLOR through its lookup table; nil for greyscale images.
    public func displayRGB(_ index: Int) throws(DICOMError) -> [UInt8]? {
        let interpretation = decodedPhotometricInterpretation
        let pixels = rows * columns
        if interpretation == "PALETTE COLOR" {
            guard let palette else {
                throw DICOMError(.invalidValue, "PALETTE COLOR without a usable lookup table", tag: .redPaletteColorLookupTableData)
            }
            let values = try frameValues(index)
            var output = [UInt8](repeating: 0, count: pixels * 3)
            for (i, value) in values.prefix(pixels).enumerated() {
                let (r, g, b) = palette.color(Int(value))
                output[3 * i] = r
                output[3 * i + 1] = g
                output[3 * i + 2] = b
            }
            return output
        }
        guard samplesPerPixel == 3, ["RGB", "YBR_FULL", "YBR_RCT", "YBR_ICT"].contains(interpretation) else { return nil }
        let values = try frameValues(index)
        let shift = max(0, bitsStored - 8)
        let planar = decodedPlanarConfiguration == 1
        var output = [UInt8](repeating: 0, count: pixels * 3)
        for i in 0..<pixels {
            var sample = (0..<3).map { channel in
                let value = values[planar ? channel * pixels + i : 3 * i + channel]
                return shift > 0 ? Double(Int(value) >> shift) : value
            }
            if interpretation == "YBR_FULL" {
                let (y, cb, cr) = (sample[0], sample[1] - 128, sample[2] - 128)
                sample = [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb]
            }
            for channel in 0..<3 { output[3 * i + channel] = UInt8(clamping: Int(sample[channel].rounded())) }
        }
        return output
    }
}
