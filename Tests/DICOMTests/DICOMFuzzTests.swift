import Foundation
import TestSupport
import Testing

@testable import DICOM

/// A committed random-mutation fuzzer: mutated fixtures must give a value or a
/// `DICOMError` — never a crash, a hang or an unbounded allocation. Seeded, so
/// a failure replays; bounded in count and time so the suite stays fast.
@Suite("Fuzzing the reader")
struct DICOMFuzzTests {
    static func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { break }
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes[position] ^= UInt8.random(in: 1...255, using: &random)
            case 1:  // an extreme 32-bit length
                let value: UInt32 = [0xFFFF_FFFF, 0xFFFF_FFFE, 0x7FFF_FFFF, 0x8000_0000, 0, 1].randomElement(using: &random)!
                for (offset, byte) in withUnsafeBytes(of: value.littleEndian, Array.init).enumerated() where position + offset < bytes.count
                {
                    bytes[position + offset] = byte
                }
            case 2: bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...64, using: &random)))
            case 3: bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + 16)], at: position)
            case 4: bytes = Array(bytes.prefix(position))
            default:  // an item or delimiter tag
                let tag: [UInt8] = [[0xFE, 0xFF, 0x00, 0xE0], [0xFE, 0xFF, 0x0D, 0xE0], [0xFE, 0xFF, 0xDD, 0xE0]].randomElement(
                    using: &random)!
                for (offset, byte) in tag.enumerated() where position + offset < bytes.count { bytes[position + offset] = byte }
            }
        }
        return bytes
    }

    @Test("mutated fixtures never crash the reader, pixel decoder, JSON encoder or writer")
    func mutations() throws {
        var random = SeededGenerator(seed: 20_261_125)
        let inputs = try Fixtures.readable.map { [UInt8](try Data(contentsOf: Fixtures.url($0))) }
        let deadline = ContinuousClock.now + .seconds(20)
        var runs = 0, accepted = 0
        while runs < 4000 && ContinuousClock.now < deadline {
            let input = inputs[runs % inputs.count]
            let mutated = Data(Self.mutate(input, using: &random))
            runs += 1
            for options in [DICOMReader.Options(), .init(stopBeforePixelData: true, validation: .raise)] {
                guard let file = try? DICOMReader.read(mutated, options: options) else { continue }
                accepted += 1
                _ = DICOMJSON.data(file.dataset)
                _ = DatasetDumper.dump(file)
                if let pixels = try? PixelData(file.dataset, transferSyntax: file.transferSyntax) {
                    for frame in 0..<min(pixels.numberOfFrames, 4) { _ = try? pixels.frameValues(frame) }
                }
                _ = try? DICOMWriter.write(
                    file.dataset, transferSyntax: file.transferSyntax.isEncapsulated ? file.transferSyntax : .explicitVRLittleEndian)
            }
        }
        #expect(runs >= 100, "the fuzzer ran \(runs) inputs")
        #expect(accepted > 0, "some mutations still read")
    }
}
