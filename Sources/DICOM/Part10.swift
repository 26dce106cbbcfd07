public import Foundation

/// Part 10 framing around a data set that travels without it (a DIMSE data set):
/// wrapping one for storage, and finding it again in stored bytes.
public enum Part10 {
    /// Preamble, "DICM" and a complete meta group (Explicit VR Little Endian, group length first) naming the
    /// SOP instance, its transfer syntax, Metis's implementation and, when given, the AE that sent it.
    /// Throws when a value does not fit its element (a UID longer than 64 KiB).
    static func header(
        sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, sourceAETitle: String? = nil
    ) throws(DICOMError) -> [UInt8] {
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
        for element in meta.elements { try body.write(element, explicit: true) }
        var output = ByteWriter()
        output.bytes.append(contentsOf: [UInt8](repeating: 0, count: 128))
        output.bytes.append(contentsOf: Array("DICM".utf8))
        try output.write(
            DataElement(tag: .fileMetaInformationGroupLength, vr: .UL, value: .bytes(Data(littleEndian: UInt32(body.bytes.count)))),
            explicit: true)
        output.bytes.append(contentsOf: body.bytes)
        return output.bytes
    }

    /// A Part 10 file around `dataset`, encoded in `transferSyntaxUID` as it arrived: the header, then the bytes unchanged.
    public static func wrap(
        encodedDataset dataset: Data, sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, sourceAETitle: String?
    ) throws(DICOMError) -> Data {
        var file = Data(
            try header(
                sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID, transferSyntaxUID: transferSyntaxUID, sourceAETitle: sourceAETitle
            ))
        file.append(dataset)
        return file
    }

    /// The data set of `data`, after any preamble and meta group: a stored instance's bytes as a DIMSE data set.
    /// Bytes with no meta group are their data set.
    public static func dataset(of data: Data) -> Data {
        var offset = data.count >= 132 && data.dropFirst(128).prefix(4).elementsEqual("DICM".utf8) ? 132 : 0
        // Meta elements are Explicit VR Little Endian: walk them until the group is no longer 0002.
        while offset + 8 <= data.count {
            let start = data.startIndex + offset
            guard data[start] == 0x02, data[start + 1] == 0x00 else { break }
            if VR(String(decoding: data[(start + 4)..<(start + 6)], as: UTF8.self))?.hasLongLength == true {
                guard offset + 12 <= data.count else { break }
                let length = data[(start + 8)..<(start + 12)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                offset += 12 + length
            } else {
                offset += 8 + (Int(data[start + 6]) | Int(data[start + 7]) << 8)
            }
        }
        return data.subdata(in: (data.startIndex + min(offset, data.count))..<data.endIndex)
    }
}
