public import Foundation

/// Part 10 framing around a data set that travels without it (a DIMSE data set):
/// wrapping one for storage, and finding it again in stored bytes.
public enum Part10 {
    /// A Part 10 file around `dataset`, encoded in `transferSyntaxUID` as it arrived: preamble, a meta group naming
    /// the SOP instance and the sending AE, then the bytes unchanged.
    public static func wrap(
        encodedDataset dataset: Data, sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, sourceAETitle: String?
    ) -> Data {
        var meta = Dataset()
        meta[.fileMetaInformationVersion] = DataElement(tag: .fileMetaInformationVersion, vr: .OB, value: .bytes(Data([0x00, 0x01])))
        meta[.mediaStorageSOPClassUID] = .text(.mediaStorageSOPClassUID, .UI, sopClassUID)
        meta[.mediaStorageSOPInstanceUID] = .text(.mediaStorageSOPInstanceUID, .UI, sopInstanceUID)
        meta[.transferSyntaxUID] = .text(.transferSyntaxUID, .UI, transferSyntaxUID)
        meta[.implementationClassUID] = .text(.implementationClassUID, .UI, UID.implementationClass)
        meta[.implementationVersionName] = .text(.implementationVersionName, .SH, UID.implementationVersionName)
        if let sourceAETitle, !sourceAETitle.isEmpty {
            meta[.sourceApplicationEntityTitle] = .text(.sourceApplicationEntityTitle, .AE, sourceAETitle)
        }
        var body = ByteWriter()
        // Values of the meta group are ASCII and short: they always fit.
        for element in meta.elements { try? body.write(element, explicit: true) }
        var output = ByteWriter()
        output.bytes.reserveCapacity(132 + 12 + body.bytes.count + dataset.count)
        output.bytes.append(contentsOf: [UInt8](repeating: 0, count: 128))
        output.bytes.append(contentsOf: Array("DICM".utf8))
        try? output.write(
            DataElement(tag: .fileMetaInformationGroupLength, vr: .UL, value: .bytes(Data(littleEndian: UInt32(body.bytes.count)))),
            explicit: true)
        output.bytes.append(contentsOf: body.bytes)
        output.bytes.append(contentsOf: dataset)
        return Data(output.bytes)
    }

    /// Where the data set starts in `data` (after any preamble and meta group): a stored instance's
    /// bytes as a DIMSE data set. Bytes with no meta group start with their data set.
    public static func datasetOffset(_ data: Data) -> Int {
        let bytes = [UInt8](data.prefix(132 + 4096))
        var offset = bytes.count >= 132 && bytes[128..<132].elementsEqual("DICM".utf8) ? 132 : 0
        // Meta elements are Explicit VR Little Endian: walk them until the group is no longer 0002.
        while offset + 8 <= data.count {
            let start = data.startIndex + offset
            let group = UInt16(data[start]) | UInt16(data[start + 1]) << 8
            guard group == 0x0002 else { break }
            let vr = String(decoding: data[(start + 4)..<(start + 6)], as: UTF8.self)
            if ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV"].contains(vr) {
                guard offset + 12 <= data.count else { break }
                let length = data[(start + 8)..<(start + 12)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                offset += 12 + length
            } else {
                let length = Int(data[start + 6]) | Int(data[start + 7]) << 8
                offset += 8 + length
            }
        }
        return min(offset, data.count)
    }
}
