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

    @Test(
        "a MONAI state dict and MONAI's own constructor call run as they are",
        arguments: [
            "unetr-batch", "unetr-group", "unetr-defaults-int-size", "segresnet-brats", "segresnet-instance-leaky-deconv",
            "swinunetr-v2-merging2-batch",
        ])
    func monaiCheckpoint(_ name: String) async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralEngineTests/Fixtures/monai")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("metis-monai-\(UUID().uuidString.prefix(8)).npy")
        defer { try? FileManager.default.removeItem(at: output) }
        // The bare call ({"name": "UNETR", ...MONAI's kwargs}) as --config, the safetensors as MONAI saved it (int64 buffers too).
        let run = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", fixtures.appendingPathComponent("\(name).safetensors").path,
                "--config", fixtures.appendingPathComponent("\(name).json").path,
                "--input", fixtures.appendingPathComponent("\(name).input.npy").path, "--output", output.path, "--threads", "1",
            ])
        #expect(run.status == 0, "\(run.output)")
        let logits = try NumpyArray.read(Data(contentsOf: output))
        let expected = try NumpyArray.read(Data(contentsOf: fixtures.appendingPathComponent("\(name).output.npy")))
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(logits.shape == expected.shape && logits.maximumDifference(from: expected) <= 1e-4 * scale)
    }

    @Test("an argument Metis does not take is refused by name")
    func refusesArgument() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-monai-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralEngineTests/Fixtures/monai")
        try Data(#"{"name": "UNETR", "in_channels": 1, "out_channels": 2, "img_size": 32, "pos_embed": "conv"}"#.utf8)
            .write(to: directory.appendingPathComponent("call.json"))
        let run = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", fixtures.appendingPathComponent("unetr-batch.safetensors").path,
                "--config", directory.appendingPathComponent("call.json").path,
                "--input", fixtures.appendingPathComponent("unetr-batch.input.npy").path,
                "--output", directory.appendingPathComponent("y.npy").path,
            ], includingErrors: true)
        #expect(run.status != 0 && run.output.contains("pos_embed"), "\(run.output)")
    }

    @Test("--sliding-window over a 2-channel input matches MONAI's sliding_window_inference with a SegResNet card")
    func multiChannelSlidingWindow() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralEngineTests/Fixtures/monai")
        let name = "sliding-segresnet-2ch"
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("metis-sliding-\(UUID().uuidString.prefix(8)).npy")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--weights", fixtures.appendingPathComponent("\(name).safetensors").path,
                "--config", fixtures.appendingPathComponent("\(name).json").path,
                "--input", fixtures.appendingPathComponent("\(name).input.npy").path, "--output", output.path, "--sliding-window",
            ])
        #expect(run.status == 0 && run.output.hasPrefix("sliding window "), "\(run.output)")
        let logits = try NumpyArray.read(Data(contentsOf: output))
        let expected = try NumpyArray.read(Data(contentsOf: fixtures.appendingPathComponent("\(name).output.npy")))
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(logits.shape == [1, 2, 20, 28, 12] && logits.shape == expected.shape)
        #expect(logits.maximumDifference(from: expected) <= 1e-4 * scale, "max |Δ| \(logits.maximumDifference(from: expected))")
    }
}
