import Foundation
import Testing

/// Each service's executable links its own process's modules and none of
/// another's: read from the Swift symbols each binary defines.
@Suite("Each executable links only its process")
struct ExecutableLinkingTests {
    /// The executable, a module it must contain, and modules it must not.
    static let rules: [(executable: String, own: String, foreign: [String])] = [
        (
            "metis-storage", "StorageService",
            [
                "Gateway", "InferenceService", "TrackingService", "Launcher", "NeuralEngine", "ModelInference", "Segmentation",
                "SegmentationWorkflow",
                "Imaging", "StructureSet", "FollowUp", "Hummingbird",
            ]
        ),
        (
            "metis-tracking", "TrackingService",
            [
                "Gateway", "InferenceService", "StorageService", "Launcher", "NeuralEngine", "ModelInference", "Segmentation",
                "SegmentationWorkflow",
                "Imaging", "StructureSet", "DICOM", "Hummingbird",
            ]
        ),
        (
            "metis-inference", "InferenceService",
            ["Gateway", "StorageService", "TrackingService", "Launcher", "FollowUp", "MetisDatabase", "GRDB", "Hummingbird"]
        ),
        (
            "metis-gateway", "Gateway",
            [
                "StorageService", "TrackingService", "InferenceService", "Launcher", "NeuralEngine", "ModelInference", "FollowUp",
                "MetisDatabase", "GRDB",
            ]
        ),
    ]

    @Test("no service executable contains another process's modules", arguments: rules.map(\.executable))
    func ownModulesOnly(executable: String) async throws {
        let rule = try #require(Self.rules.first { $0.executable == executable })
        let modules = try await Self.definingModules(of: MetisProcesses.executable(executable))
        #expect(modules.contains(rule.own), "\(executable) defines no \(rule.own) symbol; modules found: \(modules.sorted())")
        #expect(modules.contains("MetisProcess"), "\(executable) should share MetisProcess; modules found: \(modules.sorted())")
        let foreign = modules.intersection(rule.foreign)
        #expect(foreign.isEmpty, "\(executable) links \(foreign.sorted())")
    }

    @Test("metis, the supervisor and tools, contains every process")
    func supervisorHasAll() async throws {
        let modules = try await Self.definingModules(of: MetisProcesses.executable("metis"))
        for module in ["Launcher", "StorageService", "TrackingService", "InferenceService", "Gateway"] {
            #expect(modules.contains(module), "metis lacks \(module)")
        }
    }

    /// The modules named first in the binary's defined Swift symbols (`$s<length><module>…`).
    static func definingModules(of binary: URL) async throws -> Set<String> {
        let result = try await MetisProcesses.run(
            URL(fileURLWithPath: "/usr/bin/nm"), ["--defined-only", "--format=just-symbols", binary.path], includingErrors: true)
        try #require(result.status == 0, "nm \(binary.path) failed: \(result.output.prefix(500))")
        var modules = Set<String>()
        for line in result.output.split(separator: "\n") where line.hasPrefix("$s") {
            let name = line.utf8.dropFirst(2)
            let digits = name.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !digits.isEmpty, digits.first != UInt8(ascii: "0"), let length = Int(String(decoding: digits, as: UTF8.self)) else {
                continue
            }
            let rest = name.dropFirst(digits.count)
            guard rest.count >= length else { continue }
            modules.insert(String(decoding: rest.prefix(length), as: UTF8.self))
        }
        return modules
    }
}
