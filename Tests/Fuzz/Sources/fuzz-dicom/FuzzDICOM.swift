import CFuzzerDriver
import DICOM
import Foundation

/// Any bytes: the reader answers a DICOMFile or a typed DICOMError, never crashes or loops; so does
/// every pixel decoder on whatever frames the file holds (JPEG, JPEG-LS, JPEG 2000, HTJ2K, RLE seeds).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let data = Data(bytes: start, count: count)
    if let file = try? DICOMReader.read(data) {
        _ = DICOMJSON.data(file.dataset)
        if let pixels = try? PixelData(file.dataset, transferSyntax: file.transferSyntax), pixels.frameLength <= 1 << 24 {
            for frame in 0..<min(pixels.numberOfFrames, 4) { _ = try? pixels.frameBytes(frame) }
        }
    }
    _ = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true, validation: .raise))
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_dicom_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
