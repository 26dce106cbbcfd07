// swift-tools-version:6.1
import PackageDescription

/// Applied to every Swift target: Swift 6 mode with strict concurrency, explicit existentials.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The numerical modules are optimised even in debug builds: an unoptimised
/// UNETR forward pass is orders of magnitude slower, and the test suite runs
/// the real network through `metis up`.
let numericalSettings: [SwiftSetting] = swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let protobuf: Target.Dependency = .product(name: "SwiftProtobuf", package: "swift-protobuf")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")

let package = Package(
    name: "Metis",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "metis", targets: ["metis"]),
        .executable(name: "metis-storage", targets: ["metis-storage"]),
        .executable(name: "metis-inference", targets: ["metis-inference"]),
        .executable(name: "metis-tracking", targets: ["metis-tracking"]),
        .executable(name: "metis-gateway", targets: ["metis-gateway"]),
        .executable(name: "metis-probe", targets: ["metis-probe"]),
        .library(name: "MetisRPC", targets: ["MetisRPC"]),
        .library(name: "MetisProto", targets: ["MetisProto"]),
        .library(name: "DICOM", targets: ["DICOM"]),
        // The codec shims alone, for the benchmark that measures the bare libraries against the DICOM decoders.
        .library(name: "CPixelCodecs", targets: ["CPixelCodecs"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        // The DIMSE SCU and association layer, for the DIMSE load generator (Benchmarks/Sources/dimse-load).
        .library(name: "DICOMNetwork", targets: ["DICOMNetwork"]),
        .library(name: "DIMSE", targets: ["DIMSE"]),
        .library(name: "Gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),

        // The field's pixel decoders behind thin C shims: OpenJPEG (JPEG 2000, HTJ2K), CharLS (JPEG-LS),
        // libjpeg-turbo (8-bit lossy JPEG) and GDCM's IJG builds (lossless and 12-bit JPEG).
        .target(
            name: "CPixelCodecs",
            cSettings: [.unsafeFlags(["-O2", "-Wall"])],
            linkerSettings: [
                .linkedLibrary("openjp2"), .linkedLibrary("charls"), .linkedLibrary("turbojpeg"),
                .linkedLibrary("gdcmjpeg8"), .linkedLibrary("gdcmjpeg12"), .linkedLibrary("gdcmjpeg16"),
            ]
        ),

        // Wire protocol and RPC runtime.
        .target(
            name: "MetisRPC",
            dependencies: nio + [
                protobuf, log, lifecycle,
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MetisProto",
            dependencies: ["MetisRPC", protobuf],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // DICOM Part 10, data dictionary, character sets, DICOM JSON, pixel data.
        .target(
            name: "DICOM",
            dependencies: ["CZlib", "CPixelCodecs"],
            // Pixel loops (sign correction, upsampling, RLE, values): optimised in debug builds too.
            swiftSettings: numericalSettings
        ),

        // The DICOM Upper Layer protocol's PDUs (PS3.8) as values, and their codec: no I/O.
        .target(
            name: "DIMSE",
            dependencies: ["DICOM"],
            swiftSettings: swiftSettings
        ),

        // DICOM associations over TCP on SwiftNIO: the state machine's driver, timers, the listener and the connector.
        .target(
            name: "DICOMNetwork",
            dependencies: nio + [
                "DIMSE", log, lifecycle, .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // Volumes from series, geometry, components, measurements, contours.
        .target(
            name: "Imaging",
            dependencies: ["DICOM"],
            swiftSettings: numericalSettings
        ),

        // RT Structure Sets (and, later, SEG) from lesions on a volume.
        .target(
            name: "StructureSet",
            dependencies: ["DICOM", "Imaging"],
            swiftSettings: swiftSettings
        ),

        // Lesion detection engines and the series → lesions → RTSTRUCT pipeline.
        .target(
            name: "Segmentation",
            dependencies: ["DICOM", "Imaging", "StructureSet"],
            // Voxel loops (the classical engine, the intracranial mask, morphology): optimised in debug builds too.
            swiftSettings: numericalSettings
        ),

        // The UNETR engine: tensors and layers with PyTorch/MONAI semantics on OpenBLAS.
        .target(
            name: "NeuralEngine",
            dependencies: ["CBLAS"],
            swiftSettings: numericalSettings
        ),

        // The UNETR engine as MONAI runs it: model card, pre-processing, sliding windows, inversion.
        .target(
            name: "ModelInference",
            dependencies: ["Imaging", "NeuralEngine", "Segmentation", "StructureSet"],
            swiftSettings: numericalSettings
        ),

        // Follow-up logic: lesion matching across examinations and RANO-BM response.
        .target(
            name: "FollowUp",
            swiftSettings: swiftSettings
        ),

        // SHA-256 (and SHA-1 where a peer's format asks for it) through libcrypto.
        .target(
            name: "Digest",
            dependencies: ["CLibCrypto"],
            swiftSettings: swiftSettings
        ),

        // Shared by the services that keep SQLite databases.
        .target(
            name: "MetisDatabase",
            dependencies: [grdb, .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),

        // What every process shares: its configuration (defaults, file, environment, flags), options, version and run loop.
        .target(
            name: "MetisProcess",
            dependencies: [
                "MetisRPC", "CMalloc", log, lifecycle, argumentParser,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // One library per process, its command beside it.
        .target(
            name: "StorageService",
            dependencies: [
                "MetisRPC", "MetisProto", "MetisDatabase", "MetisProcess", "DICOM", "Digest", "CZlib", "CPixelCodecs", grdb, log, lifecycle,
                protobuf,
                argumentParser,
            ] + nio,
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SegmentationWorkflow",
            dependencies: ["DICOM", "Imaging", "Segmentation", "MetisRPC", "MetisProto", log, protobuf],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InferenceService",
            dependencies: [
                "MetisRPC", "MetisProto", "MetisProcess", "CBLAS", "CMalloc", "DICOM", "Imaging", "Segmentation", "SegmentationWorkflow",
                "ModelInference", log, lifecycle,
                protobuf, argumentParser,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TrackingService",
            dependencies: [
                "MetisRPC", "MetisProto", "MetisDatabase", "MetisProcess", "FollowUp", grdb, log, lifecycle, protobuf, argumentParser,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "MetisRPC", "MetisProto", "MetisProcess", "DICOM", "DIMSE", "DICOMNetwork", "Digest", "Segmentation",
                "SegmentationWorkflow",
                "CZlib", "CLibCrypto", log, lifecycle, protobuf,
                argumentParser,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("WebApp")],
            swiftSettings: swiftSettings
        ),
        // `metis` only: the supervisor (`metis up`) and the tools.
        .target(
            name: "Launcher",
            dependencies: [
                "MetisRPC", "MetisProto", "MetisProcess", "StorageService", "MetisDatabase", "InferenceService", "TrackingService",
                "Gateway", "DICOM", "DIMSE", "DICOMNetwork", "Imaging", "Segmentation", "SegmentationWorkflow", "NeuralEngine",
                "ModelInference",
                "CBLAS",
                "CLibCrypto", "CMalloc", log, lifecycle, argumentParser, protobuf,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // Thin executables: `metis` runs every process as a subcommand; each service's own executable links only that process.
        .executableTarget(
            name: "metis",
            dependencies: ["Launcher", argumentParser],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "metis-storage",
            dependencies: ["StorageService", argumentParser],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "metis-inference",
            dependencies: ["InferenceService", argumentParser],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "metis-tracking",
            dependencies: ["TrackingService", argumentParser],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "metis-gateway",
            dependencies: ["Gateway", argumentParser],
            swiftSettings: swiftSettings
        ),

        // The C tool: speaks the wire protocol through libprotobuf-c.
        .executableTarget(
            name: "metis-probe",
            dependencies: ["CProtobufC"],
            exclude: ["README.md"],
            cSettings: [.headerSearchPath("proto"), .unsafeFlags(["-Wall"])],
            linkerSettings: [.linkedLibrary("protobuf-c"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),

        // Tests.
        .target(
            name: "TestSupport",
            dependencies: ["CZlib", "DICOM"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MetisRPCTests",
            dependencies: [
                "MetisRPC", "MetisProto", protobuf, log,
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DICOMTests",
            dependencies: ["DICOM", "TestSupport"],
            exclude: ["Scripts"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DIMSETests",
            dependencies: ["DIMSE", "DICOM", "TestSupport"],
            resources: [.copy("Scripts")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DICOMNetworkTests",
            dependencies: ["DICOMNetwork", "DIMSE", "DICOM", "TestSupport", log] + nio,
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", "StructureSet", "DICOM", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SegmentationWorkflowTests",
            dependencies: ["SegmentationWorkflow", "Segmentation", "Imaging", "DICOM", "MetisProto", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SegmentationTests",
            dependencies: ["Segmentation", "Imaging", "StructureSet", "DICOM", "TestSupport"],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NeuralEngineTests",
            dependencies: ["NeuralEngine"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelInferenceTests",
            dependencies: ["ModelInference", "NeuralEngine", "Imaging", "Segmentation"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FollowUpTests",
            dependencies: ["FollowUp"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LauncherTests",
            dependencies: ["Launcher", "MetisProcess", "Gateway", argumentParser],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MetisProcessTests",
            dependencies: ["MetisProcess", "MetisRPC", argumentParser, log],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DigestTests",
            dependencies: ["Digest"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MetisDatabaseTests",
            dependencies: ["MetisDatabase", grdb],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageServiceTests",
            dependencies: ["StorageService", "MetisRPC", "MetisProto", "DICOM", "CZlib", grdb, log, protobuf],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrackingServiceTests",
            dependencies: ["TrackingService", "MetisRPC", "MetisProto", log, protobuf],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InferenceServiceTests",
            dependencies: ["InferenceService", "MetisRPC", "MetisProto", "DICOM", "ModelInference", "Segmentation", "TestSupport", log],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "MetisRPC", "MetisProto", "TestSupport", "TrackingService", log, protobuf,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["MetisRPC", "MetisProto", "DICOM", "Imaging", "Gateway", "InferenceService", "NeuralEngine", "TestSupport"],
            exclude: ["Scripts", "Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)
