public import Foundation

/// Reads DICOM Part 10 files (and, leniently, data sets without preamble or
/// meta group) in every uncompressed transfer syntax, keeping encapsulated
/// pixel data as its fragments. Values are views into the input, not copies.
public enum DICOMReader {
    /// What to do with data that breaks the standard but can still be read.
    public enum ValidationMode: Sendable {
        case ignore
        /// Read it and record a warning in `DICOMFile.warnings`.
        case warn
        /// Refuse it with a `DICOMError`.
        case raise
    }

    public struct Options: Sendable {
        /// Stop before (7FE0,0010) Pixel Data: a metadata-only read.
        public var stopBeforePixelData = false
        public var validation = ValidationMode.warn
        /// Deepest sequence nesting accepted.
        public var maximumDepth = 32
        /// Largest inflated size of a deflated data set.
        public var maximumInflatedSize = 1 << 31

        public init(stopBeforePixelData: Bool = false, validation: ValidationMode = .warn) {
            self.stopBeforePixelData = stopBeforePixelData
            self.validation = validation
        }
    }

    /// Reads a file: memory-mapped when large, so that big values are never copied.
    public static func read(contentsOf url: URL, options: Options = .init()) throws(DICOMError) -> DICOMFile {
        if options.stopBeforePixelData, let head = try FileBytes.loadHead(url.path) {
            // Most headers fit the first pages: parse those alone, and the whole
            // file only when the head ends before the pixel data.
            let result = head.withUnsafeBytes { raw in
                Result { () throws(DICOMError) in try read(head, raw: raw, options: options) }
            }
            if case .success(let (file, stoppedAtPixelData)) = result, stoppedAtPixelData { return file }
        }
        return try read(FileBytes.load(url.path), options: options)
    }

    public static func read(_ data: Data, options: Options = .init()) throws(DICOMError) -> DICOMFile {
        let bytes = data.startIndex == 0 ? data : Data(data)
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(DICOMError) in try read(bytes, raw: raw, options: options) }
        }
        return try result.get().file
    }

    /// A bare data set in `transferSyntax`, without preamble or meta group: a DIMSE command set or data set.
    public static func readElements(_ data: Data, transferSyntax: TransferSyntax, options: Options = .init()) throws(DICOMError) -> Dataset
    {
        try parseElements(data.startIndex == 0 ? data : Data(data), syntax: transferSyntax, options: options).dataset
    }

    /// The elements of a whole buffer (a bare data set, or an inflated one) and the parser's warnings.
    private static func parseElements(_ bytes: Data, syntax: TransferSyntax, options: Options) throws(DICOMError) -> (
        dataset: Dataset, warnings: [String]
    ) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(DICOMError) -> (Dataset, [String]) in
                var parser = DatasetParser(data: bytes, raw: raw, syntax: syntax, options: options)
                return (try parser.parseTopLevel(), parser.warnings)
            }
        }
        return try result.get()
    }

    private static func read(
        _ bytes: Data, raw: UnsafeRawBufferPointer, options: Options
    ) throws(DICOMError) -> (file: DICOMFile, stoppedAtPixelData: Bool) {
        var warnings = [String]()
        var offset = 0
        let hadPreamble = bytes.count >= 132 && raw[128] == 0x44 && raw[129] == 0x49 && raw[130] == 0x43 && raw[131] == 0x4D
        if hadPreamble {
            offset = 132
        } else if bytes.count >= 4, raw[0] == 0x44 && raw[1] == 0x49 && raw[2] == 0x43 && raw[3] == 0x4D {
            offset = 4
        } else if !looksLikeDataset(bytes) {
            throw DICOMError(.notDICOM, "no DICM prefix and no recognisable data element at the start", offset: 0)
        } else {
            try note("file has no 128-byte preamble and DICM prefix", into: &warnings, mode: options.validation)
        }

        // The meta group is always Explicit VR Little Endian.
        var meta = Dataset()
        if offset + 2 <= bytes.count, readUInt16(bytes, offset, littleEndian: true) == 0x0002 {
            var parser = DatasetParser(data: bytes, raw: raw, syntax: .explicitVRLittleEndian, options: options)
            parser.offset = offset
            meta = try parser.parseMetaGroup()
            offset = parser.offset
            warnings += parser.warnings
        } else if hadPreamble {
            try note("file has no file meta information group", into: &warnings, mode: options.validation)
        }

        var syntax: TransferSyntax
        if let uid = meta.string(.transferSyntaxUID), !uid.isEmpty {
            syntax = TransferSyntax(uid: uid)
        } else {
            syntax = guessSyntax(bytes, at: offset)
            if !meta.isEmpty {
                try note("meta group has no Transfer Syntax UID; read as \(syntax.name)", into: &warnings, mode: options.validation)
            }
        }

        // Some writers label implicit VR data sets explicit (pydicom and Orthanc read them by what the bytes show).
        if syntax.isExplicitVR, syntax.isLittleEndian, !syntax.isDeflated, offset + 6 <= bytes.count,
            VR.known(raw[offset + 4], raw[offset + 5]) == nil, guessSyntax(bytes, at: offset) == .implicitVRLittleEndian,
            looksLikeDataset(bytes[offset...])
        {
            try note(
                "the data set is encoded with implicit VR though its transfer syntax \(syntax.uid) says explicit; read as implicit",
                into: &warnings, mode: options.validation)
            syntax = syntax.withImplicitVR
        }

        let dataset: Dataset
        var stoppedAtPixelData = false
        if syntax.isDeflated {
            let body = try Inflater.inflate(bytes[offset...], limit: options.maximumInflatedSize, syntax: syntax.uid)
            let (parsed, parserWarnings) = try parseElements(body, syntax: syntax, options: options)
            dataset = parsed
            warnings += parserWarnings
        } else {
            var parser = DatasetParser(data: bytes, raw: raw, syntax: syntax, options: options)
            parser.offset = offset
            dataset = try parser.parseTopLevel()
            warnings += parser.warnings
            stoppedAtPixelData = parser.stoppedAtPixelData
        }
        let file = DICOMFile(meta: meta, dataset: dataset, transferSyntax: syntax, hadPreamble: hadPreamble, warnings: warnings)
        return (file, stoppedAtPixelData)
    }

    static func note(_ warning: String, into warnings: inout [String], mode: ValidationMode) throws(DICOMError) {
        try mode.handle(warning, into: &warnings, offset: nil, syntax: nil)
    }

    /// A data set without meta group starts with a small group number and, if
    /// explicit, two letters.
    private static func looksLikeDataset(_ data: Data) -> Bool {
        guard data.count >= 8 else { return false }
        let group = readUInt16(data, data.startIndex, littleEndian: true)
        return group == 0x0002 || group == 0x0008 || (group <= 0x0010 && group > 0)
    }

    private static func guessSyntax(_ data: Data, at offset: Int) -> TransferSyntax {
        guard offset + 6 <= data.count else { return .implicitVRLittleEndian }
        return VR.known(data[offset + 4], data[offset + 5]) != nil ? .explicitVRLittleEndian : .implicitVRLittleEndian
    }
}

@inline(__always)
func readUInt16(_ data: Data, _ offset: Int, littleEndian: Bool) -> UInt16 {
    let value = UInt16(data[offset]) | UInt16(data[offset + 1]) << 8
    return littleEndian ? value : value.byteSwapped
}

extension DICOMReader.ValidationMode {
    /// Applies the mode to something the standard forbids but that can be read.
    func handle(_ warning: String, into warnings: inout [String], offset: Int?, syntax: String?) throws(DICOMError) {
        switch self {
        case .ignore: break
        case .warn: warnings.append(warning)
        case .raise: throw DICOMError(.invalidValue, warning, offset: offset, transferSyntax: syntax)
        }
    }
}
