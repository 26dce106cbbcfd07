// swift-tools-version:6.1
// The code generators behind deploy/gen-protos, kept out of the main package so
// that building Metis never builds the protobuf plugin library.
import PackageDescription

let package = Package(
    name: "protoc-gen-metis",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0")
    ],
    targets: [
        .executableTarget(
            name: "protoc-gen-metis",
            dependencies: [
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf")
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
