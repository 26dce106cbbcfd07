import SwiftProtobufPluginLibrary

/// Generates the MetisRPC service stubs (method descriptors, a service protocol
/// with its router registration, and a typed client) from the `service` blocks
/// of `.proto` files. protoc-gen-swift generates the messages.
///
/// Options (`--metis_opt`):
/// - `Visibility=Public|Internal` (default Public)
/// - `RuntimeModule=NAME`: module that provides MetisRPC (default MetisRPC;
///   empty when generating into that module itself)
/// - `ProtoPathModuleMappings=FILE`: as protoc-gen-swift's option
@main
struct ServiceStubGenerator: CodeGenerator {
    var version: String? { "1.0.0" }
    var projectURL: String? { "Metis deploy/protoc-gen-metis" }

    var supportedFeatures: [Google_Protobuf_Compiler_CodeGeneratorResponse.Feature] {
        [.proto3Optional]
    }

    func generate(
        files: [FileDescriptor],
        parameter: any CodeGeneratorParameter,
        protoCompilerContext: any ProtoCompilerContext,
        generatorOutputs: any GeneratorOutputs
    ) throws {
        var options = StubOptions()
        for (key, value) in parameter.parsedPairs {
            switch key {
            case "Visibility":
                options.visibility = value.lowercased() == "internal" ? "internal" : "public"
            case "RuntimeModule":
                options.runtimeModule = value
            case "ProtoPathModuleMappings":
                options.mappings = try ProtoFileToModuleMappings(path: value)
            default:
                throw GeneratorError("unknown option \(key)")
            }
        }
        for file in files where !file.services.isEmpty {
            let namer = SwiftProtobufNamer(currentFile: file, protoFileToModuleMappings: options.mappings)
            let printer = StubPrinter(file: file, namer: namer, options: options)
            let base = file.name.hasSuffix(".proto") ? String(file.name.dropLast(6)) : file.name
            try generatorOutputs.add(fileName: base + ".metis.swift", contents: printer.render())
        }
    }
}

struct StubOptions {
    var visibility = "public"
    var runtimeModule = "MetisRPC"
    var mappings = ProtoFileToModuleMappings()
}

struct GeneratorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
