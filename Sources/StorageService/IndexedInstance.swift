import DICOM
import Digest
import Foundation

/// What the index records of one instance, taken from its parsed data set.
struct IndexedInstance: Sendable {
    var patientID: String
    var patientName: String?
    var patientBirthDate: String?
    var patientSex: String?
    var studyInstanceUID: String
    var studyDate: String?
    var studyTime: String?
    var studyDescription: String?
    var accessionNumber: String?
    var referringPhysicianName: String?
    var studyID: String?
    var seriesInstanceUID: String
    var modality: String?
    var seriesNumber: Int?
    var seriesDescription: String?
    var seriesDate: String?
    var seriesTime: String?
    var sopInstanceUID: String
    var sopClassUID: String
    var instanceNumber: Int?
    var rows: Int?
    var columns: Int?
    var numberOfFrames: Int?
    var transferSyntaxUID: String
    var size: Int
    var sha256: String
    /// DICOM JSON of the data set, bulk data replaced by `bulk:` URIs of its tag path.
    var metadataJSON: String
    /// Where native pixel data starts in the file, when every frame can be read
    /// straight from the blob at `pixelDataOffset + index × frameLength`.
    var pixelDataOffset: Int?
    var frameLength: Int?
    /// The image series this instance is Metis's segmentation result of (the
    /// store request says so; the file cannot): recorded on its series.
    var segmentationSource: String?
    /// Conformance defects the file was stored with (lenient validation), one sentence each.
    var warnings: [String] = []

    /// Parses and checks `bytes` (whose hash the caller may already know);
    /// refuses what is not a storable instance, saying why.
    /// `strict` refuses what lenient validation stores with a warning.
    init(bytes: Data, sha256 knownHash: String? = nil, strict: Bool = false) throws(StorageError) {
        let file: DICOMFile
        do {
            file = try DICOMReader.read(bytes, options: .init(validation: strict ? .raise : .warn))
        } catch {
            throw .invalid("not a readable DICOM instance: \(error)")
        }
        var warnings = Array(file.warnings.prefix(10))
        func lenient(_ warning: String) throws(StorageError) {
            if strict { throw .invalid(warning + " (dicom_validation = strict)") }
            warnings.append(warning)
        }
        guard file.hadPreamble, !file.meta.isEmpty else {
            throw .invalid("not a DICOM Part 10 file: no preamble and file meta information")
        }
        let dataset = file.dataset
        func required(_ tag: Tag, _ name: String) throws(StorageError) -> String {
            guard let value = dataset.string(tag), !value.isEmpty else { throw .invalid("\(name) \(tag) is missing") }
            guard UID.isUsable(value) else { throw .invalid("\(name) \(tag) '\(value)' is not a valid UID") }
            if !UID.isValid(value) { try lenient("\(name) \(tag) '\(value)' is not a conformant UID (PS3.5 §9.1)") }
            return value
        }
        sopClassUID = try required(.sopClassUID, "SOP Class UID")
        sopInstanceUID = try required(.sopInstanceUID, "SOP Instance UID")
        studyInstanceUID = try required(.studyInstanceUID, "Study Instance UID")
        seriesInstanceUID = try required(.seriesInstanceUID, "Series Instance UID")
        // Common after anonymisation: stored under the data set's UIDs, the bytes as sent.
        if let metaInstance = file.meta.string(.mediaStorageSOPInstanceUID), metaInstance != sopInstanceUID {
            try lenient("the meta header's Media Storage SOP Instance UID \(metaInstance) differs from the data set's \(sopInstanceUID)")
        }
        if let metaClass = file.meta.string(.mediaStorageSOPClassUID), metaClass != sopClassUID {
            try lenient("the meta header's Media Storage SOP Class UID \(metaClass) differs from the data set's \(sopClassUID)")
        }
        patientID = dataset.string(.patientID) ?? ""
        patientName = dataset.string(.patientName)
        patientBirthDate = dataset.string(.patientBirthDate)
        patientSex = dataset.string(.patientSex)
        studyDate = dataset.string(.studyDate)
        studyTime = dataset.string(.studyTime)
        studyDescription = dataset.string(.studyDescription)
        accessionNumber = dataset.string(.accessionNumber)
        referringPhysicianName = dataset.string(.referringPhysicianName)
        studyID = dataset.string(.studyID)
        seriesDate = dataset.string(.seriesDate)
        seriesTime = dataset.string(.seriesTime)
        modality = dataset.string(.modality)
        seriesNumber = dataset.int(.seriesNumber)
        seriesDescription = dataset.string(.seriesDescription)
        instanceNumber = dataset.int(.instanceNumber)
        rows = dataset.int(.rows)
        columns = dataset.int(.columns)
        numberOfFrames = dataset.int(.numberOfFrames)
        transferSyntaxUID = file.transferSyntax.uid
        size = bytes.count
        sha256 = knownHash ?? Digest.sha256(bytes)
        let json = DICOMJSON.data(dataset) { element, path in
            let isBulk: Bool
            switch element.value {
            case .encapsulated: isBulk = true
            case .bytes(let data): isBulk = element.tag == .pixelData || data.count > 1024
            case .sequence: isBulk = false
            }
            return isBulk ? "bulk:" + path : nil
        }
        metadataJSON = String(decoding: json, as: UTF8.self)
        (pixelDataOffset, frameLength) = Self.frameLayout(file)
        self.warnings = warnings
    }

    /// The offset and per-frame length of native, byte-aligned pixel data
    /// stored as it is read (not deflated, not byte-swapped); nil otherwise.
    private static func frameLayout(_ file: DICOMFile) -> (Int?, Int?) {
        guard !file.transferSyntax.isDeflated, file.transferSyntax.isLittleEndian, !file.transferSyntax.isEncapsulated,
            case .bytes(let data)? = file.dataset[.pixelData]?.value,
            let pixels = try? PixelData(file.dataset, transferSyntax: file.transferSyntax), pixels.bitsAllocated % 8 == 0,
            pixels.numberOfFrames * pixels.storedFrameLength <= data.count
        else { return (nil, nil) }
        return (data.startIndex, pixels.storedFrameLength)
    }
}
