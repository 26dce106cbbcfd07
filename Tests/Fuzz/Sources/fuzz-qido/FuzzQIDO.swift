import CFuzzerDriver
@_spi(Fuzzing) import Gateway

/// Any query string: a storage query at each level, or a typed 400.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    _ = FuzzingEntryPoints.qido(String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self))
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_qido_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
