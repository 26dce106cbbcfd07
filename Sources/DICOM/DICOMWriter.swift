public import Foundation

/// Writes Part 10 files in Explicit (or Implicit) VR Little Endian, with a
/// complete meta group, even-length values and sequences of defined length.
/// Encapsulated pixel data is written back fragment by fragment, unchanged,
/// under its own (encapsulated) transfer syntax.
public enum DICOMWriter {
    /// Encodes `dataset` as a Part 10 file. `transferSyntax` must be Explicit or
    /// Implicit VR Little Endian, unless the data set holds encapsulated pixel
    /// data, whose own syntax is then required.
    public static func write(_ dataset: Dataset, transferSyntax: TransferSyntax = .explicitVRLittleEndian) throws(DICOMError) -> Data {
        let hasEncapsulated = dataset.elements.contains { if case .encapsulated = $0.value { true } else { false } }
        if hasEncapsulated != transferSyntax.isEncapsulated || transferSyntax.isDeflated || !transferSyntax.isLittleEndian {
            throw DICOMError(
                .unsupportedTransferSyntax,
                hasEncapsulated
                    ? "encapsulated pixel data must be written with its encapsulated transfer syntax"
                    : "Metis writes Explicit or Implicit VR Little Endian", transferSyntax: transferSyntax.uid)
        }
        guard let sopClass = dataset.string(.sopClassUID), let sopInstance = dataset.string(.sopInstanceUID) else {
            throw DICOMError(.invalidValue, "a Part 10 file needs SOP Class UID and SOP Instance UID", transferSyntax: transferSyntax.uid)
        }
        var output = ByteWriter()
        output.bytes = try Part10.header(sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: transferSyntax.uid)
        for element in dataset.elements where element.tag.group != 0x0002 {
            try output.write(element, explicit: transferSyntax.isExplicitVR)
        }
        return Data(output.bytes)
    }

    /// The elements of `dataset` encoded in `transferSyntax` (Explicit or Implicit VR Little Endian), with no
    /// preamble or meta group: a DIMSE data set or command set as it travels in P-DATA-TF.
    public static func elements(_ dataset: Dataset, transferSyntax: TransferSyntax = .implicitVRLittleEndian) throws(DICOMError) -> Data {
        guard transferSyntax.isLittleEndian, !transferSyntax.isDeflated else {
            throw DICOMError(
                .unsupportedTransferSyntax, "Metis writes Explicit or Implicit VR Little Endian", transferSyntax: transferSyntax.uid)
        }
        var output = ByteWriter()
        for element in dataset.elements { try output.write(element, explicit: transferSyntax.isExplicitVR) }
        return Data(output.bytes)
    }

    /// Writes `dataset` to `url` (temporary file, then rename).
    public static func write(_ dataset: Dataset, to url: URL, transferSyntax: TransferSyntax = .explicitVRLittleEndian) throws(DICOMError) {
        let data = try write(dataset, transferSyntax: transferSyntax)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw DICOMError(.io, "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}

/// Appends encoded elements to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func write(_ element: DataElement, explicit: Bool) throws(DICOMError) {
        switch element.value {
        case .bytes(let data):
            let padded = data.count % 2 == 1
            try header(element.tag, element.vr, length: UInt32(data.count + (padded ? 1 : 0)), explicit: explicit)
            bytes.append(contentsOf: data)
            if padded { bytes.append(element.vr.paddingByte) }
        case .sequence(let items):
            var body = ByteWriter()
            for item in items {
                var itemBody = ByteWriter()
                for child in item.elements { try itemBody.write(child, explicit: explicit) }
                body.tag(.item)
                body.uint32(UInt32(itemBody.bytes.count))
                body.bytes.append(contentsOf: itemBody.bytes)
            }
            try header(element.tag, .SQ, length: UInt32(body.bytes.count), explicit: explicit)
            bytes.append(contentsOf: body.bytes)
        case .encapsulated(let pixels):
            try header(element.tag, element.vr, length: 0xFFFF_FFFF, explicit: explicit)
            for fragment in [pixels.basicOffsetTable] + pixels.fragments {
                tag(.item)
                uint32(UInt32(fragment.count))
                bytes.append(contentsOf: fragment)
            }
            tag(.sequenceDelimitationItem)
            uint32(0)
        }
    }

    private mutating func header(_ tag: Tag, _ vr: VR, length: UInt32, explicit: Bool) throws(DICOMError) {
        self.tag(tag)
        guard explicit else {
            uint32(length)
            return
        }
        bytes.append(UInt8(vr.code >> 8))
        bytes.append(UInt8(vr.code & 0xFF))
        if vr.hasLongLength {
            bytes.append(contentsOf: [0, 0])
            uint32(length)
        } else {
            guard length <= 0xFFFF else {
                throw DICOMError(.valueTooLarge, "a \(vr) value of \(length) bytes does not fit a 16-bit length", tag: tag, vr: vr)
            }
            bytes.append(UInt8(length & 0xFF))
            bytes.append(UInt8(length >> 8))
        }
    }

    mutating func tag(_ tag: Tag) {
        bytes.append(UInt8(tag.group & 0xFF))
        bytes.append(UInt8(tag.group >> 8))
        bytes.append(UInt8(tag.element & 0xFF))
        bytes.append(UInt8(tag.element >> 8))
    }

    mutating func uint32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

extension DataElement {
    /// A text element (no character-set conversion: for ASCII VRs such as UI, CS, DA).
    public static func text(_ tag: Tag, _ vr: VR, _ value: String) -> DataElement {
        DataElement(tag: tag, vr: vr, value: .bytes(Data(value.utf8)))
    }
}

extension Data {
    init<T: FixedWidthInteger>(littleEndian value: T) {
        self = Swift.withUnsafeBytes(of: value.littleEndian) { Data($0) }
    }
}
