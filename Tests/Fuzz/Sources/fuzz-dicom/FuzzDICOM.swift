import CFuzzerDriver
import DICOM
import Foundation

/// Any bytes: the reader answers a DICOMFile or a typed DICOMError, never crashes or loops.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let data = Data(bytes: start, count: count)
    if let file = try? DICOMReader.read(data) {
        _ = DICOMJSON.data(file.dataset)
    }
    _ = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true, validation: .raise))
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_dicom_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
