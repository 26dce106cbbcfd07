import CFuzzerDriver
import Foundation

@_spi(Fuzzing) import Gateway

/// Any body with the boundary its first line names: parts or a typed ParseError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let data = Data(bytes: start, count: count)
    let newline = data.firstIndex(of: 0x0A)
    let boundary = newline.map { String(decoding: data[..<$0], as: UTF8.self) } ?? ""
    _ = FuzzingEntryPoints.multipart(
        newline.map { Data(data[data.index(after: $0)...]) } ?? data, boundary: boundary.isEmpty ? "b" : boundary)
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_multipart_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
