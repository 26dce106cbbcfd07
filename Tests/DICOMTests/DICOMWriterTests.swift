import Foundation
import TestSupport
import Testing

@testable import DICOM

@Suite("Writing DICOM files")
struct DICOMWriterTests {
    @Test("read → write → read keeps every element, VR and value", arguments: Fixtures.readable)
    func roundTrip(name: String) throws {
        let original = try DICOMReader.read(contentsOf: Fixtures.url(name))
        let syntaxes: [TransferSyntax] =
            original.transferSyntax.isEncapsulated ? [original.transferSyntax] : [.explicitVRLittleEndian, .implicitVRLittleEndian]
        for syntax in syntaxes {
            let written = try DICOMWriter.write(original.dataset, transferSyntax: syntax)
            let reread = try DICOMReader.read(written, options: .init(validation: .raise))
            #expect(reread.transferSyntax.uid == syntax.uid)
            var expected = Fixtures.rows(of: original.dataset)
            var actual = Fixtures.rows(of: reread.dataset)
            if !syntax.isExplicitVR {
                // Implicit VR cannot carry the VR of private elements: they come back as UN, with the same bytes.
                let isPrivate: (Fixtures.Row) -> Bool = {
                    Tag(rawValue: UInt32($0.path.suffix(8), radix: 16)!).isPrivate && !$0.path.hasSuffix("0010")
                }
                expected.removeAll(where: isPrivate)
                actual.removeAll(where: isPrivate)
            }
            #expect(actual == expected, "\(name) via \(syntax.name)")
            if case .encapsulated(let before)? = original.dataset[.pixelData]?.value,
                case .encapsulated(let after)? = reread.dataset[.pixelData]?.value
            {
                #expect(before == after, "encapsulated pixel data byte-identical")
            }
        }
    }

    @Test("the meta group is complete and values are padded to even length")
    func metaGroup() throws {
        let source = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        let file = try DICOMReader.read(try DICOMWriter.write(source))
        #expect(file.hadPreamble)
        #expect(file.meta.string(.mediaStorageSOPClassUID) == source.string(.sopClassUID))
        #expect(file.meta.string(.mediaStorageSOPInstanceUID) == source.string(.sopInstanceUID))
        #expect(file.meta.string(.implementationClassUID) == UID.implementationClass)
        #expect(file.meta.string(.implementationVersionName) == UID.implementationVersionName)
        #expect(file.meta[.fileMetaInformationGroupLength] != nil)
        for element in file.dataset.elements {
            if case .bytes(let data) = element.value { #expect(data.count % 2 == 0, "\(element.tag) has odd length") }
        }
        // An odd-length UI gets a NUL, an odd-length text a space.
        var dataset = source
        dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, "1.2.3")
        dataset[.studyDescription] = .text(Tag.studyDescription, .LO, "abc")
        let padded = try DICOMReader.read(try DICOMWriter.write(dataset)).dataset
        #expect(padded[.studyInstanceUID]?.bytes.last == 0x00)
        #expect(padded[.studyDescription]?.bytes.last == 0x20)
        #expect(padded.string(.studyInstanceUID) == "1.2.3")
        #expect(padded.string(.studyDescription) == "abc")
    }

    @Test("refuses what it cannot write")
    func refusals() throws {
        let source = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm")).dataset
        #expect(throws: DICOMError.self) { try DICOMWriter.write(source, transferSyntax: .explicitVRBigEndian) }
        var anonymous = source
        anonymous[.sopInstanceUID] = nil
        #expect(throws: DICOMError.self) { try DICOMWriter.write(anonymous) }
        let rle = try DICOMReader.read(contentsOf: Fixtures.url("rle.dcm")).dataset
        #expect(throws: DICOMError.self) { try DICOMWriter.write(rle, transferSyntax: .explicitVRLittleEndian) }
    }

    @Test("pydicom reads what Metis writes, with the same values", .enabled(if: Pydicom.isAvailable))
    func pydicomReadsOurFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dicom-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["explicit-le.dcm", "utf8.dcm", "undefined-length-sequences.dcm", "explicit-be.dcm"] {
            let source = try DICOMReader.read(contentsOf: Fixtures.url(name)).dataset
            let output = directory.appendingPathComponent(name)
            try DICOMWriter.write(source, to: output)
            let listing = try await onOwnThread { try Pydicom.rows(of: output) }
            #expect(listing == Fixtures.rows(of: source), "\(name)")
        }
    }
}

/// Runs pydicom (when installed) to read files Metis wrote.
enum Pydicom {
    static let isAvailable: Bool = (try? run(["-c", "import pydicom"]).status) == 0

    static func run(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let result = try ToolProcess.runBlocking("python3", arguments, standardError: .discarded)
        return (result.status, result.output)
    }

    /// The rows make-fixtures.py would list for `url`.
    static func rows(of url: URL) throws -> [Fixtures.Row] {
        let code = """
            import json, sys, pydicom
            def value_of(e):
                if e.VR == 'SQ': return None
                v = e.value
                if e.VR in ('OB','OW','OF','OD','OL','OV','UN') or isinstance(v, bytes):
                    return {'length': len(v) if isinstance(v, bytes) else 0}
                if isinstance(v, (pydicom.multival.MultiValue, list, tuple)): return [str(x) for x in v]
                return [str(v)] if v != '' else []
            rows = []
            def walk(ds, prefix):
                for e in ds:
                    key = prefix + f'{e.tag:08X}'
                    rows.append([key, e.VR, value_of(e)])
                    if e.VR == 'SQ':
                        for i, item in enumerate(e.value): walk(item, f'{key}/{i}/')
            walk(pydicom.dcmread(sys.argv[1]), '')
            print(json.dumps(rows))
            """
        return try Fixtures.rows(fromJSON: run(["-c", code, url.path]).output)
    }
}

@Suite("dcmtk reads what Metis writes")
struct DcmtkCrossCheckTests {
    static let dcmdump = ["/usr/bin/dcmdump", "/usr/local/bin/dcmdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        "dcmdump parses every file Metis writes, with the same values", .enabled(if: dcmdump != nil),
        arguments: [
            "explicit-le.dcm", "utf8.dcm", "undefined-length-sequences.dcm", "rle.dcm", "multiframe-8bit.dcm",
        ])
    func dcmdumpReads(name: String) async throws {
        let source = try DICOMReader.read(contentsOf: Fixtures.url(name))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dcmtk-\(UUID().uuidString.prefix(8))-\(name)")
        defer { try? FileManager.default.removeItem(at: url) }
        let syntax = source.transferSyntax.isEncapsulated ? source.transferSyntax : .explicitVRLittleEndian
        try DICOMWriter.write(source.dataset, to: url, transferSyntax: syntax)

        // +U8: print text as UTF-8 whatever the character set; -E: fail on any parse error.
        let result = try await ToolProcess.run(Self.dcmdump!, ["+U8", "-E", url.path])
        let (status, output) = (result.status, result.text)
        #expect(status == 0, "\(output)")
        #expect(!output.contains("E: "), "\(output)")
        #expect(output.contains("(0010,0020) LO [METIS-001]"))
        #expect(output.contains("(0002,0013) SH [\(UID.implementationVersionName)]"))
        let name = try #require(source.dataset.string(.patientName))
        #expect(output.contains("[\(name)]"), "patient name \(name) in \(output.prefix(2000))")
        #expect(output.contains("(0008,0104) LO [Encéphale]"))
    }
}
