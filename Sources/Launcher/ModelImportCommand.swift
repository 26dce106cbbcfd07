public import ArgumentParser
import Foundation
import ModelInference
import NeuralEngine
import Segmentation

/// `metis model import BUNDLE_DIR --out Weights/NAME`: a MONAI bundle made into a model card and its safetensors.
public struct ModelImportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: """
            Import a MONAI bundle (configs/inference.json, configs/metadata.json, models/model.pt) as a Metis model card \
            and safetensors. Reads model.pt with Python's standard library only (no torch).
            """)

    @Argument(help: "The bundle's folder.") var bundle: String
    @Option(help: "Where to write, without extension: OUT.json and OUT.safetensors.") var out: String
    @Option(
        help:
            "The MR sequence of each input channel, comma-separated, alternatives with | (e.g. t1c,t1,t2,flair); required for several channels."
    )
    var sequences: String?
    @Option(help: "Axis codes the model was trained at, when the bundle has no Orientationd (e.g. LPS for BraTS NIfTI voxels).")
    var orientation: String?
    @Option(help: "Spacing (mm) the model was trained at, when the bundle has no Spacingd: one number or X,Y,Z.") var spacing: String?
    @Option(help: "Output channels that are the lesions followed up, comma-separated (default: every channel but the background).")
    var lesionLabels: String?
    @Option(help: "The model's name in the card (default: the bundle's metadata name).") var name: String?
    @Option(help: "The Python 3 interpreter that reads models/model.pt.") var python = "python3"

    public init() {}

    public func run() async throws {
        let folder = URL(fileURLWithPath: bundle)
        let configs = folder.appendingPathComponent("configs")
        let config = configs.appendingPathComponent("inference.json")
        guard FileManager.default.fileExists(atPath: config.path) else {
            let yaml = ["inference.yaml", "inference.yml"].contains {
                FileManager.default.fileExists(atPath: configs.appendingPathComponent($0).path)
            }
            throw ValidationError(
                yaml
                    ? "\(bundle) has a YAML inference config; Metis reads configs/inference.json (convert it, e.g. with python -m monai.bundle ckpt_export or a YAML-to-JSON tool)"
                    : "\(bundle) has no configs/inference.json: not a MONAI bundle")
        }
        let checkpoint = folder.appendingPathComponent("models/model.pt")
        guard FileManager.default.fileExists(atPath: checkpoint.path) else { throw ValidationError("\(bundle) has no models/model.pt") }
        let options = MONAIBundle.Options(
            sequences: sequences.map {
                $0.split(separator: ",").map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
            },
            orientation: orientation, spacing: try spacing.map(Self.spacing), lesionLabels: try lesionLabels.map(Self.integers), name: name)
        let configData = try Data(contentsOf: config)
        let imported: MONAIBundle
        do {
            imported = try MONAIBundle(
                config: configData, metadata: try? Data(contentsOf: configs.appendingPathComponent("metadata.json")), options: options)
        } catch {
            throw ValidationError("\(bundle): \(error.description)")
        }

        // Written beside the destination, checked by loading them as the inference worker would, then moved into place.
        let destination = URL(fileURLWithPath: out)
        let directory = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let staging = directory.appendingPathComponent(".import-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: staging) }
        let base = destination.lastPathComponent
        let weights = staging.appendingPathComponent(base + ".safetensors")
        guard let script = EngineCatalog.findInstalled("Weights/torch_to_safetensors.py") else {
            throw ValidationError("Weights/torch_to_safetensors.py is not installed beside metis")
        }
        let (status, output) = try Self.runTool(python, [script, checkpoint.path, weights.path])
        guard status == 0 else {
            throw ValidationError(
                "reading models/model.pt with \(python) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var card = imported.card
        card["weights"] = base + ".safetensors"
        card["source"] = ["monai_bundle": folder.standardizedFileURL.lastPathComponent, "imported_by": "metis model import"]
        let cardFile = staging.appendingPathComponent(base + ".json")
        try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys]).write(to: cardFile)
        let engine: ModelEngine
        do {
            engine = try ModelEngine.load(card: cardFile)
        } catch {
            throw ValidationError("the weights of \(bundle) do not fit its network_def: \(error.description)")
        }
        for (file, target) in [
            (weights, destination.appendingPathExtension("safetensors")), (cardFile, destination.appendingPathExtension("json")),
        ] {
            _ = try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: file, to: target)
        }
        print("wrote \(destination.path).json and \(destination.path).safetensors: \(engine.card.architecture.name), engine \(engine.name)")
        print("input channels: \(engine.channels.map { $0.map(\.rawValue).joined(separator: " or ") }.joined(separator: "; "))")
        print(
            "labels: \(engine.card.labels.sorted { Int($0.key) ?? 0 < Int($1.key) ?? 0 }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
        )
        for note in imported.notes { print("note: \(note)") }
    }

    /// Runs a tool found on PATH (or at a path) to its end: its status and its output and errors together.
    static func runTool(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot run \(tool): \(error.localizedDescription)")
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    static func integers(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ValidationError("'\(text)' is not comma-separated integers") }
        return values.map { $0! }
    }

    static func spacing(_ text: String) throws -> [Double] {
        let values = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard [1, 3].contains(values.count), values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--spacing '\(text)' must be one positive number or three, comma-separated")
        }
        return values.count == 1 ? [values[0], values[0], values[0]] : values
    }
}
