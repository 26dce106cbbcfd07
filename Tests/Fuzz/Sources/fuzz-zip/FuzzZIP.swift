import CFuzzerDriver
import Foundation

@_spi(Fuzzing) import Gateway

/// Any bytes as a ZIP archive: entries or a typed ReadError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    _ = FuzzingEntryPoints.zip(Data(bytes: start, count: count))
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_zip_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
