import Foundation
import NeuralEngine
import Testing

/// `metis model run` on a MONAI UNETR's weights, against MONAI's own logits.
@Suite("metis model run")
struct ModelRunTests {
    @Test("the logits of a safetensors UNETR match MONAI's; --repeat prints the median time")
    func runsNetwork() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralEngineTests/Fixtures/layers")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("manifest.json"))) as? [String: Any])
        let fixture = try #require((manifest["cases"] as? [[String: Any]])?.first { $0["name"] as? String == "unetr-conv-instance" })
        let files = try #require(fixture["tensors"] as? [String: String])
        var weights = [String: Tensor]()
        for (key, file) in files where key != "input" && key != "output" {
            weights[key] = try NumpyArray.read(Data(contentsOf: fixtures.appendingPathComponent(file)))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-model-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try SafeTensors.write(weights, metadata: ["format": "metis-unetr"]).write(to: directory.appendingPathComponent("w.safetensors"))
        try JSONSerialization.data(withJSONObject: ["architecture": try #require(fixture["config"])]).write(
            to: directory.appendingPathComponent("card.json"))
        let output = directory.appendingPathComponent("y.npy")
        let run = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", directory.appendingPathComponent("w.safetensors").path,
                "--config", directory.appendingPathComponent("card.json").path,
                "--input", fixtures.appendingPathComponent(try #require(files["input"])).path, "--output", output.path,
                "--threads", "1", "--repeat", "2",
            ])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.hasPrefix("median ") && run.output.hasSuffix(" s\n"))
        let logits = try NumpyArray.read(Data(contentsOf: output))
        let expected = try NumpyArray.read(Data(contentsOf: fixtures.appendingPathComponent(try #require(files["output"]))))
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(logits.maximumDifference(from: expected) <= 1e-4 * scale)
        // --sliding-window on an input of exactly the window's size: one window, whose weights cancel out;
        // the file is written a slab at a time, C order, as numpy reads it.
        let slid = directory.appendingPathComponent("slid.npy")
        let sliding = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", directory.appendingPathComponent("w.safetensors").path,
                "--config", directory.appendingPathComponent("card.json").path,
                "--input", fixtures.appendingPathComponent(try #require(files["input"])).path, "--output", slid.path,
                "--threads", "1", "--sliding-window",
            ])
        #expect(sliding.status == 0 && sliding.output.hasPrefix("sliding window "), "\(sliding.output)")
        let blended = try NumpyArray.read(Data(contentsOf: slid))
        #expect(blended.shape == expected.shape && blended.maximumDifference(from: expected) <= 1e-4 * scale)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).allSatisfy { !$0.hasSuffix(".partial") })
        // A checkpoint that lacks a key is refused, naming it.
        weights["out.conv.conv.bias"] = nil
        try SafeTensors.write(weights).write(to: directory.appendingPathComponent("w.safetensors"))
        let broken = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", directory.appendingPathComponent("w.safetensors").path,
                "--config", directory.appendingPathComponent("card.json").path,
                "--input", fixtures.appendingPathComponent(files["input"]!).path, "--output", output.path,
            ])
        #expect(broken.status != 0)
    }
}
