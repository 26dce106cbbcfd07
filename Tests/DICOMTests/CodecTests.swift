import Foundation
import TestSupport
import Testing

@testable import DICOM

/// The compressed fixtures of deploy/dicom/make-codec-fixtures.py, encoded by
/// pydicom's encoders, dcmtk and OpenJPH, decoded by Metis and compared with
/// pydicom's (or dcmtk's) decoding of the same files.
@Suite("Compressed pixel data")
struct CodecTests {
    struct Entry: Decodable {
        var syntax: String
        var tolerance: Int
        var frames: Int
        var rows: Int
        var columns: Int
        var samples: Int
        var photometric: String
        var signed: Bool
        var note: String
    }

    static let folder = Fixtures.directory.appendingPathComponent("codecs")
    static let index: [String: Entry] = {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("index.json")),
            let index = try? JSONDecoder().decode([String: Entry].self, from: data)
        else { return [:] }
        return index
    }()

    @Test("the fixture index lists every syntax Metis decodes")
    func coverage() throws {
        let syntaxes = Set(Self.index.values.map(\.syntax))
        let expected: Set<String> = [
            "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
            "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.5",
        ]
        #expect(syntaxes == expected)
    }

    @Test("each fixture decodes to the reference, frame by frame", arguments: index.keys.sorted())
    func decodes(_ name: String) throws {
        let entry = try #require(Self.index[name])
        let file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
        #expect(file.transferSyntax.uid == entry.syntax)
        let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        #expect(pixels.isDecodable)
        #expect(pixels.numberOfFrames == entry.frames)
        let reference = try Data(contentsOf: Self.folder.appendingPathComponent(name + ".expected.raw")).littleEndianArray(of: UInt32.self)
            .map { Int32(bitPattern: $0) }
        let perFrame = entry.rows * entry.columns * entry.samples
        #expect(reference.count == perFrame * entry.frames)
        for frame in 0..<entry.frames {
            let values = try pixels.frameValues(frame)
            try #require(values.count == perFrame, "frame \(frame + 1): \(values.count) values for \(perFrame)")
            let expected = reference[(frame * perFrame)..<((frame + 1) * perFrame)]
            let worst = zip(values, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= entry.tolerance, "\(name) frame \(frame + 1): off by up to \(worst)")
        }
        if entry.samples == 3 && entry.photometric != "RGB" {
            #expect(pixels.decodedPhotometricInterpretation == "RGB")
        }
        #expect(pixels.isLossy == file.transferSyntax.isLossy)
    }

    @Test("colour frames for display: palette colour through its tables, YBR JPEG and JPEG 2000 as RGB, as pydicom shows them")
    func displayColour() throws {
        let palette = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent("rle-palette-8bit.dcm"))
        let paletteRGB = try #require(try PixelData(palette.dataset, transferSyntax: palette.transferSyntax).displayRGB(0))
        let reference = try Data(contentsOf: Self.folder.appendingPathComponent("rle-palette-8bit.display-rgb.raw"))
            .littleEndianArray(of: UInt32.self).map { UInt8(truncatingIfNeeded: $0) }
        #expect(paletteRGB == reference, "palette colour differs from pydicom's apply_color_lut")
        for name in ["jpeg-baseline-rgb-422", "j2k-lossless-rgb-rct", "jls-lossless-rgb"] {
            let file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
            let rgb = try #require(try PixelData(file.dataset, transferSyntax: file.transferSyntax).displayRGB(0), "\(name)")
            let expected = try Data(contentsOf: Self.folder.appendingPathComponent(name + ".expected.raw")).littleEndianArray(
                of: UInt32.self)
            let worst = zip(rgb, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(rgb.count == expected.count && worst <= 2, "\(name): off by \(worst)")
        }
        let grey = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent("j2k-lossless-16bit.dcm"))
        #expect(try PixelData(grey.dataset, transferSyntax: grey.transferSyntax).displayRGB(0) == nil)
    }

    @Test("a header claiming a 4 GB frame is refused before any decoding")
    func hugeFrameClaim() throws {
        var file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent("j2k-lossless-16bit.dcm"))
        file.dataset[.rows] = DataElement(tag: .rows, vr: .US, value: .bytes(Self.uint16(65535)))
        file.dataset[.columns] = DataElement(tag: .columns, vr: .US, value: .bytes(Self.uint16(65535)))
        do {
            _ = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
            Issue.record("accepted a frame of 65535×65535×16 bits")
        } catch {
            #expect(error.code == .valueTooLarge)
        }
    }

    @Test("a stream whose size differs from the data set's is an error naming both")
    func sizeMismatch() throws {
        for name in ["j2k-lossless-16bit", "jls-lossless-16bit", "jpeg-lossless-sv1-16bit", "jpeg-baseline-8bit", "htj2k-lossless-16bit"] {
            var file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
            file.dataset[.rows] = DataElement(tag: .rows, vr: .US, value: .bytes(Self.uint16(40)))
            let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
            do {
                _ = try pixels.frameBytes(0)
                Issue.record("\(name): decoded a 48-row stream into 40 rows")
            } catch {
                #expect(error.message.contains("64×48") && error.message.contains("64×40"), "\(name): \(error.message)")
            }
        }
    }

    @Test("an HTJ2K code-block on which Debian's OpenJPEG asserts is an error, and the process lives on")
    func openJPEGAssertion() throws {
        // Found by fuzz-dicom (Tests/Fuzz/Regressions): ht_dec.c's mel_init asserts, and abort() would end the process.
        let input = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Regressions/fuzz-dicom/htj2k-mel-assertion.dcm")
        let file = try DICOMReader.read(contentsOf: input)
        #expect(file.transferSyntax.uid == "1.2.840.10008.1.2.4.203")
        let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        for _ in 0..<2 {
            do {
                _ = try pixels.frameBytes(0)
                Issue.record("decoded a frame OpenJPEG asserts on")
            } catch {
                #expect(error.message.contains("internal assertion"), "\(error.message)")
            }
        }
        // A good frame still decodes afterwards, on every core.
        let good = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent("j2k-lossless-16bit.dcm"))
        #expect(try PixelData(good.dataset, transferSyntax: good.transferSyntax).frameBytes(0).count == 64 * 48 * 2)
    }

    @Test("truncated and corrupted streams are errors, never crashes", arguments: index.keys.sorted())
    func corrupt(_ name: String) throws {
        let file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
        guard case .encapsulated(let encapsulated)? = file.dataset[.pixelData]?.value else {
            Issue.record("\(name) holds no encapsulated pixel data")
            return
        }
        var generator = SeededGenerator(seed: UInt64(name.utf8.count))
        let fragment = encapsulated.fragments[0]
        var variants = [fragment.prefix(fragment.count / 2), fragment.prefix(12), Data()]
        var flipped = [UInt8](fragment)
        for _ in 0..<8 { flipped[Int(generator.next() % UInt64(flipped.count))] ^= 0xA5 }
        variants.append(Data(flipped))
        for variant in variants {
            var dataset = file.dataset
            dataset[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(basicOffsetTable: Data(), fragments: [variant])))
            dataset[.numberOfFrames] = nil
            let pixels = try PixelData(dataset, transferSyntax: file.transferSyntax)
            // Either decodes (some corruptions leave a valid stream) or throws a DICOMError.
            _ = try? pixels.frameBytes(0)
        }
    }

    static func uint16(_ value: UInt16) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }
}

/// The character-set fixtures: each name and description decoded as pydicom
/// decodes it (or, where pydicom cannot, as Python's own codec encoded it).
@Suite("Character sets")
struct CharacterSetTests {
    struct Entry: Decodable {
        var charset: Charset
        var PatientName: String
        var StudyDescription: String
        var alphabetic: String
        var ideographic: String
        var phonetic: String
    }

    enum Charset: Decodable {
        case one(String), many([String])
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .one(text)
            } else {
                self = .many(try container.decode([String].self))
            }
        }
    }

    static let folder = Fixtures.directory.appendingPathComponent("charsets")
    static let index: [String: Entry] = {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("index.json")),
            let index = try? JSONDecoder().decode([String: Entry].self, from: data)
        else { return [:] }
        return index
    }()

    @Test("the index covers the character sets of PS3.3 C.12.1.1.2")
    func coverage() {
        #expect(Self.index.count >= 20)
    }

    @Test("names and descriptions decode as the reference", arguments: index.keys.sorted())
    func decodes(_ name: String) throws {
        let entry = try #require(Self.index[name])
        let file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
        #expect(file.dataset.characterSet.isSupported, "\(name): \(file.dataset.characterSet)")
        #expect(file.dataset.string(.patientName) == entry.PatientName)
        #expect(file.dataset.string(.studyDescription) == entry.StudyDescription)
        let json = String(decoding: DICOMJSON.data(file.dataset), as: UTF8.self)
        #expect(json.contains(entry.alphabetic.isEmpty ? entry.PatientName : entry.alphabetic), "\(name): \(json)")
        if !entry.ideographic.isEmpty { #expect(json.contains(entry.ideographic), "\(name): \(json)") }
    }

    @Test("text in each set encodes back to bytes that decode to the same text", arguments: index.keys.sorted())
    func roundTrip(_ name: String) throws {
        let entry = try #require(Self.index[name])
        let file = try DICOMReader.read(contentsOf: Self.folder.appendingPathComponent(name + ".dcm"))
        let characterSet = file.dataset.characterSet
        let encoded = try #require(characterSet.encode(entry.StudyDescription), "\(name): cannot encode")
        #expect(characterSet.decode(encoded, vr: .LO) == entry.StudyDescription)
    }

    @Test("an unknown term keeps its bytes and says so")
    func unknownTerm() {
        let characterSet = SpecificCharacterSet(terms: ["ISO_IR 999"])
        #expect(!characterSet.isSupported)
        #expect(characterSet.decode(Data([0x41, 0xE9])) == "Aé")
    }
}
