import Foundation
import Testing

@testable import DICOM

@Suite("Pixel data")
struct PixelDataTests {
    /// The values make-fixtures.py wrote: i·37 mod 2^(bits-1), over all frames.
    static func expected(count: Int, bits: Int, signed: Bool = false) -> [Double] {
        (0..<count).map { index in
            let value = index * 37 % (1 << (bits - 1))
            return Double(signed ? value - (1 << (bits - 2)) : value)
        }
    }

    @Test("native 16-bit frames, raw and rescaled")
    func native16() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("explicit-le.dcm"))
        let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        #expect(pixels.numberOfFrames == 1)
        #expect(try pixels.frameValues(0) == Self.expected(count: 256, bits: 16))
        #expect(try pixels.frameValues(0, rescaled: true) == Self.expected(count: 256, bits: 16).map { $0 - 1024 })
        #expect(throws: DICOMError.self) { try pixels.frameBytes(1) }
    }

    @Test("signed 16-bit and 8-bit multi-frame")
    func signedAndMultiframe() throws {
        let signed = try DICOMReader.read(contentsOf: Fixtures.url("signed-16bit.dcm"))
        #expect(
            try PixelData(signed.dataset, transferSyntax: signed.transferSyntax).frameValues(0)
                == Self.expected(count: 256, bits: 16, signed: true))
        let multi = try DICOMReader.read(contentsOf: Fixtures.url("multiframe-8bit.dcm"))
        let pixels = try PixelData(multi.dataset, transferSyntax: multi.transferSyntax)
        #expect(pixels.numberOfFrames == 3)
        let all = try (0..<3).flatMap { try pixels.frameValues($0) }
        #expect(all == Self.expected(count: 768, bits: 8))
    }

    @Test("RLE Lossless decodes to the native values, frame by frame")
    func rle() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("rle.dcm"))
        let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        #expect(pixels.numberOfFrames == 2)
        let all = try (0..<2).flatMap { try pixels.frameValues($0) }
        #expect(all == Self.expected(count: 512, bits: 16))
    }

    @Test("syntaxes without a decoder are refused, naming the UID")
    func unsupported() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("rle.dcm"))
        let jpip = TransferSyntax(uid: "1.2.840.10008.1.2.4.94")
        let pixels = try PixelData(file.dataset, transferSyntax: jpip)
        #expect(!pixels.isDecodable)
        do {
            _ = try pixels.frameBytes(0)
            Issue.record("decoded JPIP")
        } catch {
            #expect(error.code == .unsupportedTransferSyntax)
            #expect(error.message.contains("1.2.840.10008.1.2.4.94"))
        }
    }

    @Test("corrupt RLE is an error, never a crash")
    func corruptRLE() throws {
        let file = try DICOMReader.read(contentsOf: Fixtures.url("rle.dcm"))
        guard case .encapsulated(var encapsulated)? = file.dataset[.pixelData]?.value else {
            Issue.record("rle.dcm holds no encapsulated pixel data")
            return
        }
        var dataset = file.dataset
        for cut in [0, 10, 64, 70, encapsulated.fragments[0].count - 3] {
            encapsulated.fragments[0] = file.dataset[.pixelData].flatMap { element -> Data? in
                if case .encapsulated(let original) = element.value { return original.fragments[0].prefix(cut) }
                return nil
            }!
            dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OB, value: .encapsulated(encapsulated))
            let pixels = try PixelData(dataset, transferSyntax: file.transferSyntax)
            #expect(throws: DICOMError.self) { try pixels.frameBytes(0) }
        }
    }
}
