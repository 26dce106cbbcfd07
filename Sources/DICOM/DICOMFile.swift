public import Foundation

/// A DICOM Part 10 file: its file meta information (group 0002), its data
/// set, and the transfer syntax the data set was encoded with.
public struct DICOMFile: Sendable {
    public var meta: Dataset
    public var dataset: Dataset
    public var transferSyntax: TransferSyntax
    /// Whether the file began with the 128-byte preamble and `DICM`.
    public var hadPreamble: Bool
    /// What validation mode `warn` noticed while reading.
    public var warnings: [String]

    public init(meta: Dataset, dataset: Dataset, transferSyntax: TransferSyntax, hadPreamble: Bool = true, warnings: [String] = []) {
        self.meta = meta
        self.dataset = dataset
        self.transferSyntax = transferSyntax
        self.hadPreamble = hadPreamble
        self.warnings = warnings
    }
}
