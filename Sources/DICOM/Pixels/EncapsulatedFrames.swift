import Foundation

/// The encoded bytes of each frame of encapsulated pixel data (PS3.5 §A.4):
/// by the Extended Offset Table when present, one fragment per frame, all
/// fragments for a single frame, by the Basic Offset Table, or, when that
/// table is empty and frames span several fragments, by where a new JPEG,
/// JPEG-LS or JPEG 2000 stream starts (as pydicom and GDCM do).
struct EncapsulatedFrames {
    let pixels: EncapsulatedPixelData
    let frames: Int
    let extendedOffsets: [UInt64]?
    let extendedLengths: [UInt64]?
    let syntax: String

    func frame(_ index: Int) throws(DICOMError) -> Data {
        if let extendedOffsets, let extendedLengths {
            return try byExtendedTable(index, offsets: extendedOffsets, lengths: extendedLengths)
        }
        if pixels.fragments.count == frames { return pixels.fragments[index] }
        if frames == 1 { return Self.joined(pixels.fragments[...]) }
        let offsets = pixels.basicOffsetTable.littleEndianArray(of: UInt32.self).map(Int.init)
        if offsets.count == frames { return try byBasicTable(index, offsets: offsets) }
        guard offsets.isEmpty else {
            throw fail("the Basic Offset Table has \(offsets.count) entries for \(frames) frames")
        }
        let starts = pixels.fragments.indices.filter { Self.startsStream(pixels.fragments[$0]) }
        guard starts.count == frames, starts.first == 0 else {
            throw fail("\(pixels.fragments.count) fragments for \(frames) frames, no offset table, and \(starts.count) streams found")
        }
        let end = index + 1 < starts.count ? starts[index + 1] : pixels.fragments.count
        return Self.joined(pixels.fragments[starts[index]..<end])
    }

    /// Offsets count from the first fragment's item header, 8 bytes per item header.
    private func byBasicTable(_ index: Int, offsets: [Int]) throws(DICOMError) -> Data {
        let start = offsets[index], end = index + 1 < offsets.count ? offsets[index + 1] : Int.max
        guard start >= 0, start < end || index + 1 == offsets.count else { throw fail("Basic Offset Table entries are not increasing") }
        var position = 0
        var frame = Data()
        var found = false
        for fragment in pixels.fragments {
            if position == start { found = true }
            if position >= start && position < end { frame.append(fragment) }
            position += 8 + fragment.count
        }
        guard found else { throw fail("Basic Offset Table entry \(start) for frame \(index + 1) is not at a fragment") }
        return frame
    }

    /// Extended offsets also count item headers; the lengths give each frame's bytes within its fragments.
    private func byExtendedTable(_ index: Int, offsets: [UInt64], lengths: [UInt64]) throws(DICOMError) -> Data {
        guard offsets.count == frames, lengths.count == frames else {
            throw fail("the Extended Offset Table has \(offsets.count) offsets and \(lengths.count) lengths for \(frames) frames")
        }
        var position: UInt64 = 0
        for fragment in pixels.fragments {
            if position == offsets[index] {
                guard lengths[index] <= UInt64(fragment.count) else {
                    throw fail("frame \(index + 1) is \(lengths[index]) bytes, its fragment \(fragment.count)")
                }
                return fragment.prefix(Int(lengths[index]))
            }
            position += 8 + UInt64(fragment.count)
        }
        throw fail("Extended Offset Table entry \(offsets[index]) for frame \(index + 1) is not at a fragment")
    }

    private static func joined(_ fragments: ArraySlice<Data>) -> Data {
        if fragments.count == 1 { return fragments.first! }
        return fragments.reduce(into: Data()) { $0.append($1) }
    }

    /// JPEG SOI (FFD8 FF), JPEG 2000 SOC+SIZ (FF4F FF51) or the JP2 signature box.
    static func startsStream(_ fragment: Data) -> Bool {
        let bytes = [UInt8](fragment.prefix(12))
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return true }
        if bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0x4F, bytes[2] == 0xFF, bytes[3] == 0x51 { return true }
        return bytes.count == 12 && bytes[0..<8].elementsEqual([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20])
    }

    private func fail(_ message: String) -> DICOMError {
        DICOMError(.invalidStructure, message, tag: .pixelData, transferSyntax: syntax)
    }
}
