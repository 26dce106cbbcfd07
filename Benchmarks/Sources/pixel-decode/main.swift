// Decoding speed of Metis's pixel decoders against the bare library calls on
// the same frames, in one process: "metis" is PixelData.frameBytes from the
// parsed data set (frame extraction, the library, sign correction, the
// output buffer); "bare" is the library call alone (through its C shim) on
// frames extracted beforehand into a buffer allocated once. Prints one JSON
// object per file: the best of three rounds each (alternating), seconds per
// frame. Driven by Scripts/codec_bench.py.
//
//   swift run -c release --package-path Benchmarks pixel-decode [--seconds S] FILE...
import CPixelCodecs
import DICOM
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let seconds = arguments.firstIndex(of: "--seconds").flatMap { Double(arguments[$0 + 1]) } ?? 1.0
let files = arguments.enumerated().filter { index, value in
    !value.hasPrefix("--") && !(index > 0 && arguments[arguments.index(arguments.startIndex, offsetBy: index - 1)] == "--seconds")
}.map(\.element)

/// Calls `body` until `seconds` have passed (at least 3 times); seconds per call.
func measure(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var calls = 0
    let start = ContinuousClock.now
    var elapsed = 0.0
    while calls < 3 || elapsed < seconds {
        try body()
        calls += 1
        let duration = start.duration(to: .now)
        elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
    return elapsed / Double(calls)
}

func bare(_ syntax: String, _ frame: Data, _ pixels: PixelData, into output: inout [UInt8]) -> Int32 {
    var info = metis_codec_info()
    var error = [CChar](repeating: 0, count: 256)
    let bytes = Int32(max(1, pixels.bitsAllocated / 8))
    let rgb: Int32 = pixels.samplesPerPixel == 3 ? 1 : 0
    return frame.withUnsafeBytes { raw in
        let source = raw.bindMemory(to: UInt8.self).baseAddress!
        return output.withUnsafeMutableBufferPointer { out in
            switch syntax {
            case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81":
                metis_jls_decode(source, raw.count, out.baseAddress, out.count, bytes, &info, &error, error.count)
            case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                "1.2.840.10008.1.2.4.203":
                metis_j2k_decode(source, raw.count, out.baseAddress, out.count, bytes, &info, &error, error.count)
            case "1.2.840.10008.1.2.4.50" where pixels.bitsStored <= 8:
                metis_jpeg_turbo_decode(source, raw.count, out.baseAddress, out.count, rgb, &info, &error, error.count)
            case "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.51":
                pixels.bitsStored <= 8
                    ? metis_ijg8_decode(source, raw.count, out.baseAddress, out.count, bytes, 0, &info, &error, error.count)
                    : pixels.bitsStored <= 12
                        ? metis_ijg12_decode(source, raw.count, out.baseAddress, out.count, bytes, 0, &info, &error, error.count)
                        : metis_ijg16_decode(source, raw.count, out.baseAddress, out.count, bytes, 0, &info, &error, error.count)
            default: -1
            }
        }
    }
}

for path in files {
    let file = try DICOMReader.read(contentsOf: URL(fileURLWithPath: path))
    let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
    let syntax = file.transferSyntax.uid
    let frames = try (0..<pixels.numberOfFrames).map { try pixels.storedFrame($0) }
    // Three rounds, Metis and bare in turn, the best of each: the two share the machine's state at each moment.
    var output = [UInt8](repeating: 0, count: pixels.frameLength)
    let hasBare = bare(syntax, frames[0], pixels, into: &output) == METIS_CODEC_OK
    var metis = Double.infinity
    var bareSeconds: Double? = hasBare ? Double.infinity : nil
    var metisFrame = 0, bareFrame = 0
    for _ in 0..<3 {
        metis = min(
            metis,
            try measure {
                _ = try pixels.frameBytes(metisFrame % pixels.numberOfFrames)
                metisFrame += 1
            })
        if hasBare {
            bareSeconds = min(
                bareSeconds!,
                measure {
                    _ = bare(syntax, frames[bareFrame % frames.count], pixels, into: &output)
                    bareFrame += 1
                })
        }
    }
    var result: [String: Any] = ["file": path, "syntax": syntax, "frames": pixels.numberOfFrames, "metis_seconds": metis]
    if let bareSeconds { result["bare_seconds"] = bareSeconds }
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
}
