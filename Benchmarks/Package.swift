// swift-tools-version:6.1
// Benchmarks against named peers; results go to docs/benchmarks.md and Benchmarks/Results (--record).
// Run: swift run -c release --package-path Benchmarks rpc-roundtrip
import PackageDescription

let package = Package(
    name: "MetisBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Metis", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Last results kept next to the benchmarks, and a run compared with them (Benchmarks/compare).
        .target(name: "BenchmarkResults", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "rpc-roundtrip",
            dependencies: [
                "BenchmarkResults",
                .product(name: "MetisRPC", package: "Metis"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "tracking-populate",
            dependencies: [
                .product(name: "MetisRPC", package: "Metis"),
                .product(name: "MetisProto", package: "Metis"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "dicom-parse",
            dependencies: ["BenchmarkResults", .product(name: "DICOM", package: "Metis")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // DIMSE load: C-STORE over several associations, C-FIND and C-MOVE timings (Scripts/dimse_bench.py drives it).
        .executableTarget(
            name: "dimse-load",
            dependencies: [
                .product(name: "DICOM", package: "Metis"), .product(name: "DIMSE", package: "Metis"),
                .product(name: "DICOMNetwork", package: "Metis"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Frames decoded per second by Metis's decoders and by the bare library calls (Scripts/codec_bench.py drives it).
        .executableTarget(
            name: "pixel-decode",
            dependencies: [.product(name: "DICOM", package: "Metis"), .product(name: "CPixelCodecs", package: "Metis")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
