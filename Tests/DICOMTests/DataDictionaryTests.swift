import Testing

@testable import DICOM

@Suite("Data dictionary")
struct DataDictionaryTests {
    @Test("public tags, keywords and repeating groups")
    func lookups() throws {
        #expect(DataDictionary.count > 5000)
        let name = try #require(DataDictionary.entry(for: .patientName))
        #expect(name.keyword == "PatientName")
        #expect(name.vr == .PN)
        #expect(name.name == "Patient's Name")
        #expect(DataDictionary.entry(forKeyword: "StudyInstanceUID")?.tag == .studyInstanceUID)
        let overlay = try #require(DataDictionary.entry(for: Tag(0x6002, 0x3000)))
        #expect(overlay.keyword == "OverlayData")
        #expect(overlay.vrs == [.OB, .OW])
        #expect(DataDictionary.entry(for: Tag(0x0029, 0x1010)) == nil, "private tags are not in the dictionary")
        #expect(DataDictionary.entry(for: Tag(0x0029, 0x0010))?.vr == .LO, "private creators are LO")
        #expect(DataDictionary.entry(for: Tag(0x0018, 0x0000))?.vr == .UL, "group lengths are UL")
    }

    @Test(
        "named tags are the dictionary's keywords, first capitals lowercased",
        arguments: [
            ("SOPInstanceUID", DICOM.Tag.sopInstanceUID), ("SeriesDescription", DICOM.Tag.seriesDescription),
            ("RTROIObservationsSequence", DICOM.Tag.rtroiObservationsSequence),
            ("PixelData", DICOM.Tag.pixelData), ("Item", DICOM.Tag.item),
            ("FileMetaInformationGroupLength", DICOM.Tag.fileMetaInformationGroupLength),
            ("ROIGenerationAlgorithm", DICOM.Tag.roiGenerationAlgorithm), ("PatientID", DICOM.Tag.patientID),
        ])
    func namedTags(keyword: String, tag: DICOM.Tag) {
        #expect(DataDictionary.entry(forKeyword: keyword)?.tag == tag)
        #expect(DataDictionary.entry(for: tag)?.keyword == keyword)
    }

    @Test("UIDs under 2.25 are valid and unique")
    func uids() {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]
        #expect(UID.decimal(of: &bytes) == "256")
        var max = [UInt8](repeating: 0xFF, count: 16)
        #expect(UID.decimal(of: &max) == "340282366920938463463374607431768211455")
        let made = (0..<100).map { _ in UID.make() }
        #expect(Set(made).count == 100)
        #expect(made.allSatisfy { $0.hasPrefix("2.25.") && UID.isValid($0) })
        #expect(UID.isValid(UID.implementationClass))
        #expect(!UID.isValid("1.02.3"))
        #expect(!UID.isValid("1..2"))
    }
}
