public import DICOM
public import Foundation

/// A labelled phantom case of `Tests/Fixtures/phantoms` (made by its
/// `make_phantoms.py` from the generators in `Weights/training`): the MR
/// series and the generator's truth on its grid — 0 outside the head, 1 head
/// outside the intracranial volume, 2 intracranial, 3 + n lesion n.
public struct PhantomCase: Sendable, CustomStringConvertible {
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/phantoms")
    /// Every case: the held-out MNI generator (post-contrast T1 with dural
    /// lesions, FLAIR sagittal 5 mm, a healthy head oblique 4 mm) and one of each training generator.
    public static let all = ["mni-t1c", "mni-flair", "mni-healthy", "synthetic", "randomised"].map(PhantomCase.init)

    public let name: String
    public var description: String { name }
    public var folder: URL { Self.directory.appendingPathComponent(name) }

    public init(_ name: String) { self.name = name }

    /// The series' files, as Part 10 bytes.
    public func instances() throws -> [Data] {
        let series = folder.appendingPathComponent("series")
        return try FileManager.default.contentsOfDirectory(atPath: series.path).sorted().map {
            try Data(contentsOf: series.appendingPathComponent($0))
        }
    }

    public func files() throws -> [DICOMFile] { try instances().map { try DICOMReader.read($0) } }

    /// The truth codes, slice after slice along the normal, row after row (`truth.npy`, uint8).
    public func truth() throws -> [UInt8] {
        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("truth.npy")))
        guard bytes.count > 10, bytes[0] == 0x93, bytes[6] == 1 else {
            throw FixtureError(description: "\(name)/truth.npy is not a .npy 1.0 file")
        }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<10 + headerLength], as: UTF8.self)
        guard header.contains("'|u1'") else { throw FixtureError(description: "\(name)/truth.npy is not uint8: \(header)") }
        return Array(bytes[(10 + headerLength)...])
    }

    /// The case's description (generator, contrast, acquisition, lesions).
    public func info() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("case.json"))) as? [String: Any] ?? [:]
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
    }
}
