import Foundation
import Testing

@testable import DICOM

@Suite("Reading DICOM files")
struct DICOMReaderTests {
    @Test("implicit VR: US or SS by Pixel Representation, LUT descriptors US, as pydicom resolves them")
    func ambiguousVRs() throws {
        func dataset(signed: Bool) -> Dataset {
            Dataset([
                .text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4"), .text(.sopInstanceUID, .UI, "1.2.3.4"),
                DataElement(tag: .pixelRepresentation, vr: .US, value: .bytes(Data([signed ? 1 : 0, 0]))),
                DataElement(tag: .smallestImagePixelValue, vr: .SS, value: .bytes(Data([0xFF, 0xFF]))),
                DataElement(tag: .redPaletteColorLookupTableDescriptor, vr: .US, value: .bytes(Data([0, 0, 0, 0x80, 16, 0]))),
            ])
        }
        let signed = try DICOMReader.read(try DICOMWriter.write(dataset(signed: true), transferSyntax: .implicitVRLittleEndian)).dataset
        #expect(signed[.smallestImagePixelValue]?.vr == .SS)
        #expect(signed.numbers(.smallestImagePixelValue) == [-1])
        #expect(signed[.redPaletteColorLookupTableDescriptor]?.vr == .US)
        #expect(signed.numbers(.redPaletteColorLookupTableDescriptor) == [0, 32768, 16])
        let unsigned = try DICOMReader.read(try DICOMWriter.write(dataset(signed: false), transferSyntax: .implicitVRLittleEndian)).dataset
        #expect(unsigned.numbers(.smallestImagePixelValue) == [65535])
    }

    @Test("every element, VR and value matches what pydicom reads", arguments: Fixtures.readable)
    func matchesPydicom(name: String) throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url(name))
        let expected = try Fixtures.expectedRows(name)
        let actual = Fixtures.rows(of: file.dataset)
        #expect(actual.count == expected.count, "element count")
        for (mine, theirs) in zip(actual, expected) where mine != theirs {
            Issue.record("\(name): Metis \(mine) ≠ pydicom \(theirs)")
        }
    }

    @Test(
        "transfer syntaxes are recognised",
        arguments: [
            ("explicit-le.dcm", "1.2.840.10008.1.2.1"), ("implicit-le.dcm", "1.2.840.10008.1.2"),
            ("explicit-be.dcm", "1.2.840.10008.1.2.2"),
            ("deflated.dcm", "1.2.840.10008.1.2.1.99"), ("rle.dcm", "1.2.840.10008.1.2.5"), ("no-preamble.dcm", "1.2.840.10008.1.2"),
        ])
    func syntaxes(name: String, uid: String) throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url(name))
        #expect(file.transferSyntax.uid == uid)
    }

    @Test("Latin-1 and UTF-8 person names decode, with their groups and components")
    func characterSets() throws {
        let latin = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        #expect(latin.characterSet.terms == ["ISO_IR 100"])
        let name = try #require(latin.personNames(.patientName)?.first)
        #expect(name.alphabetic.familyName == "Dupont")
        #expect(name.alphabetic.givenName == "Hélène")
        #expect(latin.items(.anatomicRegionSequence)?.first?.string(.codeMeaning) == "Encéphale")

        let utf8 = try DICOMReader.read(contentsOf: Fixtures.url("utf8.dcm")).dataset
        let japanese = try #require(utf8.personNames(.patientName)?.first)
        #expect(japanese.alphabetic.familyName == "Müller")
        #expect(japanese.alphabetic.givenName == "Zoë")
        #expect(japanese.ideographic?.familyName == "山田")
        #expect(japanese.ideographic?.givenName == "太郎")
        #expect(japanese.description == "Müller^Zoë=山田^太郎")
    }

    @Test("big-endian numbers read as the same values as little-endian ones")
    func bigEndian() throws {
        let little = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        let big = try DICOMReader.read(contentsOf: Fixtures.url("explicit-be.dcm")).dataset
        #expect(big.int(.rows) == 16)
        #expect(big.numbers(Tag(0x0029, 0x1011)) == [513])
        // pydicom wrote the same pixel bytes into both files, so the big-endian
        // file's 16-bit words are the little-endian file's with their bytes swapped.
        let swapped = try #require(little.numbers(.pixelData)).map { Double(UInt16($0).byteSwapped) }
        #expect(big.numbers(.pixelData) == swapped)
    }

    @Test("stop before pixel data reads everything else and no pixel bytes")
    func stopBeforePixels() throws {
        let full = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        let metadata = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm"), options: .init(stopBeforePixelData: true)).dataset
        #expect(metadata[.pixelData] == nil)
        #expect(metadata.tags == full.tags.filter { $0 != .pixelData })
    }

    @Test("values are views into the file, not copies")
    func lazyValues() throws {
        let data = try Data(contentsOf: Fixtures.url("explicit-le.dcm"))
        let file = try DICOMReader.read(data)
        let pixels = try #require(file.dataset[.pixelData]?.bytes)
        #expect(pixels.count == 16 * 16 * 2)
        // A slice of the input keeps the input's indices.
        #expect(pixels.startIndex > 132)
        #expect(data[pixels.startIndex..<pixels.endIndex] == pixels)
    }

    @Test("RLE pixel data keeps its offset table and one fragment per frame")
    func encapsulated() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("rle.dcm"))
        guard case .encapsulated(let pixels)? = file.dataset[.pixelData]?.value else {
            Issue.record("pixel data not encapsulated")
            return
        }
        #expect(pixels.fragments.count == 2)
        #expect(pixels.basicOffsetTable.isEmpty || pixels.basicOffsetTable.count == 8)
    }

    @Test("a file without preamble is read, with a warning")
    func noPreamble() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("no-preamble.dcm"))
        #expect(!file.hadPreamble)
        #expect(file.warnings.contains { $0.contains("preamble") })
        #expect(file.dataset.string(.patientID) == "METIS-001")
        #expect(throws: DICOMError.self) {
            try DICOMReader.read(contentsOf: Fixtures.url("no-preamble.dcm"), options: .init(validation: .raise))
        }
    }

    @Test(
        "broken files are refused with a typed error that says where",
        arguments: [
            // A cut file ends inside a header or inside a value, depending on where the cut falls.
            ("broken-truncated.dcm", [DICOMError.Code.truncated, .invalidLength]),
            ("broken-header-cut.dcm", [.truncated]),
            ("broken-not-dicom.dcm", [.notDICOM]),
            ("broken-length-past-end.dcm", [.invalidLength]),
            ("broken-4gb-value.dcm", [.invalidLength]),
            ("broken-nesting-bomb.dcm", [.nestingTooDeep]),
            ("broken-bad-vr.dcm", [.invalidVR]),
        ])
    func broken(name: String, codes: [DICOMError.Code]) throws {
        do {
            _ = try DICOMReader.read(contentsOf: Fixtures.url(name))
            Issue.record("\(name) was accepted")
        } catch {
            #expect(codes.contains(error.code), "\(error)")
            if error.code != .notDICOM {
                #expect(error.offset != nil)
                #expect(error.transferSyntax != nil)
            }
        }
    }

    @Test("every prefix of a valid file fails cleanly or reads, never crashes")
    func everyPrefix() throws {
        let data = try Data(contentsOf: Fixtures.url("undefined-length-sequences.dcm"))
        let whole: [String] = DatasetDumper.dump(try DICOMReader.read(data)).split(separator: "\n").map(String.init)
        let truncation: Set<DICOMError.Code> = [.truncated, .invalidLength, .invalidStructure]
        var read = 0, refused: [DICOMError.Code: Int] = [:]
        for length in stride(from: 0, through: data.count, by: 7) {
            switch Result(catching: { () throws(DICOMError) in try DICOMReader.read(data.prefix(length)) }) {
            case .success(let file):
                read += 1
                // A prefix that reads ends between elements: it holds the whole file's first elements, unchanged.
                let lines: [String] = DatasetDumper.dump(file).split(separator: "\n").map(String.init)
                let expected = Array(whole.prefix(lines.count))
                #expect(expected == lines, "prefix of \(length) bytes reads other elements")
            case .failure(let error):
                refused[error.code, default: 0] += 1
                if length < 132 {
                    #expect(error.code == .notDICOM, "prefix of \(length) bytes: \(error.code)")
                } else {
                    #expect(truncation.contains(error.code), "prefix of \(length) bytes: \(error)")
                }
            }
        }
        #expect(refused[.notDICOM, default: 0] == 132 / 7 + 1)
        #expect(read + refused.values.reduce(0, +) == data.count / 7 + 1)
    }
}

@Suite("Reading large files")
struct LargeFileReadTests {
    @Test("a metadata-only read of a large file with a long header falls back to the whole file")
    func longHeader() throws {
        var dataset = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        let longValue = Data(repeating: 0xAB, count: 40_000)
        dataset[Tag(0x0029, 0x1012)] = DataElement(tag: Tag(0x0029, 0x1012), vr: .OB, value: .bytes(longValue))
        dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OW, value: .bytes(Data(repeating: 1, count: 200_000)))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metis-long-header-\(UUID().uuidString.prefix(8)).dcm")
        defer { try? FileManager.default.removeItem(at: url) }
        try DICOMWriter.write(dataset, to: url)

        let metadata = try DICOMReader.read(contentsOf: url, options: .init(stopBeforePixelData: true)).dataset
        #expect(metadata[Tag(0x0029, 0x1012)]?.bytes == longValue)
        #expect(metadata[.pixelData] == nil)
        #expect(metadata.tags == dataset.tags.filter { $0 != .pixelData })
        let full = try DICOMReader.read(contentsOf: url).dataset
        #expect(full[.pixelData]?.bytes.count == 200_000)
    }
}
