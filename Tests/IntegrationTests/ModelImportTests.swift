import Foundation
import NeuralEngine
import Testing

/// `metis model import` on a bundle laid out as MONAI's brats_mri_segmentation
/// (Tests/Fixtures/neural/make_bundle_fixture.py), then `metis model run` on
/// what it wrote, against the logits of the bundle's own inferer.
@Suite("metis model import")
struct ModelImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let bundle = fixtures.appendingPathComponent("bundle-brats")

    static func temporary() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-import-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func importing(_ bundle: URL, to out: URL, _ extra: [String]) async throws -> (status: Int32, output: String) {
        try await MetisProcesses.run(
            MetisProcesses.executable("metis"), ["model", "import", bundle.path, "--out", out.path] + extra, includingErrors: true)
    }

    static let brats = ["--sequences", "t1c,t1,t2,flair", "--orientation", "LPS", "--spacing", "1"]

    @Test("a BraTS-style bundle imports into a card and weights that give the bundle's own logits")
    func importsBundle() async throws {
        let directory = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("brats")
        let run = try await Self.importing(Self.bundle, to: out, Self.brats)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("SegResNet, engine segresnet"), "\(run.output)")
        #expect(run.output.contains("input channels: t1c; t1; t2; flair"), "\(run.output)")
        #expect(run.output.contains("Lambdad merging the channels"), "\(run.output)")
        let card = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathExtension("json"))) as? [String: Any])
        let architecture = try #require(card["architecture"] as? [String: Any])
        #expect(architecture["name"] as? String == "SegResNet")
        #expect(architecture["out_channels"] as? Int == 3, "the @num_classes reference is resolved")
        #expect(card["labels"] as? [String: String] == ["0": "tumor core", "1": "whole tumor", "2": "enhancing tumor"])
        let post = try #require(card["postprocessing"] as? [String: Any])
        #expect(post["activation"] as? String == "sigmoid")
        #expect(post["threshold"] as? Double == 0.5)
        #expect(post["nearest_interp"] as? Bool == false)
        let inference = try #require(card["inference"] as? [String: Any])
        // SlidingWindowInferer's own default blending, since the bundle names none.
        #expect(inference["mode"] as? String == "constant")
        #expect(inference["roi_size"] as? [Int] == [24, 24, 16])

        let logits = directory.appendingPathComponent("y.npy")
        let model = try await MetisProcesses.run(
            MetisProcesses.executable("metis"),
            [
                "model", "run", "--config", out.appendingPathExtension("json").path, "--weights",
                out.appendingPathExtension("safetensors").path, "--input",
                Self.fixtures.appendingPathComponent("bundle-brats.input.npy").path,
                "--output", logits.path, "--sliding-window", "--threads", "1",
            ])
        #expect(model.status == 0, "\(model.output)")
        let ours = try NumpyArray.read(Data(contentsOf: logits))
        let expected = try NumpyArray.read(Data(contentsOf: Self.fixtures.appendingPathComponent("bundle-brats.logits.npy")))
        #expect(ours.shape == expected.shape)
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(ours.maximumDifference(from: expected) <= 1e-4 * scale, "max |Δ| \(ours.maximumDifference(from: expected)), max \(scale)")
    }

    /// A copy of the fixture bundle with its inference config edited.
    static func edited(_ edit: (inout [String: Any]) -> Void, in directory: URL) throws -> URL {
        let copy = directory.appendingPathComponent("bundle")
        try FileManager.default.copyItem(at: Self.bundle, to: copy)
        let config = copy.appendingPathComponent("configs/inference.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        return copy
    }

    @Test("what Metis cannot honour is refused by name, and nothing is written")
    func refusals() async throws {
        let directory = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out/brats")
        var run = try await Self.importing(Self.bundle, to: out, ["--orientation", "LPS", "--spacing", "1"])
        #expect(run.status != 0 && run.output.contains("name the MR sequence of each (--sequences"), "\(run.output)")
        run = try await Self.importing(Self.bundle, to: out, ["--sequences", "t1c,t1,t2,flair"])
        #expect(run.status != 0 && run.output.contains("no Orientationd"), "\(run.output)")

        let transform = try Self.edited(
            { config in
                var pre = config["preprocessing"] as! [String: Any]
                var transforms = pre["transforms"] as! [[String: Any]]
                transforms.append(["_target_": "RandFlipd", "keys": "image", "prob": 0.5])
                pre["transforms"] = transforms
                config["preprocessing"] = pre
            }, in: directory.appendingPathComponent("transform"))
        run = try await Self.importing(transform, to: out, Self.brats)
        #expect(run.status != 0 && run.output.contains("preprocessing transform RandFlipd is not one Metis runs"), "\(run.output)")

        let expression = try Self.edited(
            { config in
                var network = config["network_def"] as! [String: Any]
                network["init_filters"] = "$4 * 2"
                config["network_def"] = network
            }, in: directory.appendingPathComponent("expression"))
        run = try await Self.importing(expression, to: out, Self.brats)
        #expect(
            run.status != 0 && run.output.contains("expression \"$4 * 2\" at network_def#init_filters is not supported"), "\(run.output)")

        // A checkpoint that would run code when unpickled: refused before anything of it runs.
        let hostile = try Self.edited({ _ in }, in: directory.appendingPathComponent("hostile"))
        let marker = directory.appendingPathComponent("ran")
        let craft = try await MetisProcesses.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                """
                import os, pickle, sys, zipfile
                class Payload:
                    def __reduce__(self):
                        return (os.system, ("touch " + sys.argv[2],))
                with zipfile.ZipFile(sys.argv[1], "w") as z:
                    z.writestr("archive/data.pkl", pickle.dumps({"weight": Payload()}, protocol=2))
                """, hostile.appendingPathComponent("models/model.pt").path, marker.path,
            ], includingErrors: true)
        #expect(craft.status == 0, "\(craft.output)")
        run = try await Self.importing(hostile, to: out, Self.brats)
        #expect(run.status != 0 && run.output.contains("not only tensors; refused"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathExtension("json").path))
    }
}
