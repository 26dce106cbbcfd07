// swift-tools-version:6.1
// libFuzzer targets for the parsers that read untrusted bytes: the DICOM
// reader, the RPC frame decoder, the multipart (STOW-RS, forms) parser, the
// ZIP reader and the QIDO query parser (the gateway's through its
// @_spi(Fuzzing) entry points). Built by ./run in release mode with
// -sanitize=fuzzer,address (debug builds rename an executable's entry point
// for testability, which libFuzzer's main cannot link against); each target's
// entry point is LLVMFuzzerTestOneInput.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"]), .swiftLanguageMode(.v6)]

func target(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: products.map { .product(name: $0, package: "Metis") } + ["CFuzzerDriver"] + [
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        ],
        swiftSettings: fuzzer)
}

let package = Package(
    name: "MetisFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Metis", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        target("fuzz-dicom", ["DICOM"]),
        target("fuzz-rpc-frame", ["MetisRPC", "MetisProto"]),
        target("fuzz-multipart", ["Gateway"]),
        target("fuzz-zip", ["Gateway"]),
        target("fuzz-qido", ["Gateway", "MetisProto"]),
        target("fuzz-pdu", ["DIMSE"]),
    ]
)
