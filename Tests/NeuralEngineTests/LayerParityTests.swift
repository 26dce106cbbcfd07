import Foundation
import Testing

@testable import NeuralEngine

/// Each layer against PyTorch on the committed fixtures
/// (Tests/Fixtures/neural/make_layer_fixtures.py): max |Δ| ≤ 1e-4 · max |output|.
@Suite("Layers match PyTorch")
struct LayerParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let layer: String
        let options: [String: Double]
        let tensors: [String: String]
        /// A whole network's constructor arguments (UNETR cases).
        var config: Data? = nil
        var testDescription: String { name }
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("layers")

    static var cases: [Case] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
            let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cases = manifest["cases"] as? [[String: Any]]
        else { return [] }
        return cases.map {
            Case(
                name: $0["name"] as! String, layer: $0["layer"] as! String,
                options: ($0["options"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue },
                tensors: $0["tensors"] as! [String: String],
                config: ($0["config"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) })
        }
    }

    static func tensor(_ file: String?) throws -> Tensor? {
        guard let file else { return nil }
        return try NumpyArray.read(Data(contentsOf: directory.appendingPathComponent(file)))
    }

    @Test("the fixtures are there")
    func fixturesPresent() {
        #expect(Self.cases.count == 30)
    }

    @Test("layer output", arguments: cases)
    func parity(_ fixture: Case) throws {
        let input = try #require(try Self.tensor(fixture.tensors["input"]))
        let expected = try #require(try Self.tensor(fixture.tensors["output"]))
        let weight = try Self.tensor(fixture.tensors["weight"]), bias = try Self.tensor(fixture.tensors["bias"])
        let output: Tensor
        switch fixture.layer {
        case "Linear": output = try Linear(weight: weight!, bias: bias).forward(input)
        case "LayerNorm": output = LayerNorm(weight: weight!, bias: bias!).forward(input)
        case "GELU": output = GELU.forward(input)
        case "LeakyReLU": output = LeakyReLU.forward(input, slope: Float(fixture.options["slope"] ?? 0.01))
        case "Conv3d":
            output = try Conv3d(
                weight: weight!, bias: bias, stride: Int(fixture.options["stride"] ?? 1), padding: Int(fixture.options["padding"] ?? 0)
            ).forward(input)
        case "InstanceNorm3d": output = InstanceNorm3d(weight: weight, bias: bias).forward(input)
        case "ConvTranspose3d": output = try ConvTranspose3d(weight: weight!, bias: bias).forward(input)
        case "MLPBlock":
            func linear(_ name: String) throws -> Linear {
                Linear(
                    weight: try #require(try Self.tensor(fixture.tensors["\(name).weight"])),
                    bias: try Self.tensor(fixture.tensors["\(name).bias"]))
            }
            output = try MLPBlock(linear1: linear("linear1"), linear2: linear("linear2")).forward(input)
        case "PatchEmbeddingBlock":
            let patch = Int(fixture.options["patch"] ?? 1)
            let positions = try #require(try Self.tensor(fixture.tensors["position_embeddings"]))
            let projection: PatchEmbedding.Projection
            if let weight = try Self.tensor(fixture.tensors["patch_embeddings.1.weight"]) {
                projection = .perceptron(Linear(weight: weight, bias: try Self.tensor(fixture.tensors["patch_embeddings.1.bias"])))
            } else {
                projection = .convolution(
                    Conv3d(
                        weight: try #require(try Self.tensor(fixture.tensors["patch_embeddings.weight"])),
                        bias: try Self.tensor(fixture.tensors["patch_embeddings.bias"]), stride: patch))
            }
            output = try PatchEmbedding(projection: projection, patch: patch, positionEmbeddings: positions).forward(input)
        case "TransformerBlock":
            func tensor(_ name: String) throws -> Tensor { try #require(try Self.tensor(fixture.tensors[name]), "\(name)") }
            func linear(_ name: String) throws -> Linear {
                Linear(weight: try tensor("\(name).weight"), bias: try Self.tensor(fixture.tensors["\(name).bias"]))
            }
            output = try TransformerBlock(
                norm1: LayerNorm(weight: try tensor("norm1.weight"), bias: try tensor("norm1.bias")),
                attention: SelfAttention(
                    heads: Int(fixture.options["heads"] ?? 1), qkv: try linear("attn.qkv"), outputProjection: try linear("attn.out_proj")),
                norm2: LayerNorm(weight: try tensor("norm2.weight"), bias: try tensor("norm2.bias")),
                mlp: MLPBlock(linear1: try linear("mlp.linear1"), linear2: try linear("mlp.linear2"))
            ).forward(input)
        case "UnetResBlock", "UnetBasicBlock", "UnetOutBlock":
            func tensor(_ name: String) throws -> Tensor { try #require(try Self.tensor(fixture.tensors[name]), "\(name)") }
            func conv(_ name: String, padding: Int) throws -> Conv3d {
                Conv3d(
                    weight: try tensor("\(name).conv.weight"), bias: try Self.tensor(fixture.tensors["\(name).conv.bias"]), padding: padding
                )
            }
            func norm(_ name: String) throws -> BlockNorm {
                guard let weight = try Self.tensor(fixture.tensors["\(name).weight"]) else { return .instance(InstanceNorm3d()) }
                return .batch(
                    BatchNorm3d(
                        weight: weight, bias: try tensor("\(name).bias"), runningMean: try tensor("\(name).running_mean"),
                        runningVariance: try tensor("\(name).running_var")))
            }
            switch fixture.layer {
            case "UnetResBlock":
                let downsample =
                    fixture.tensors["conv3.conv.weight"] == nil ? nil : (conv: try conv("conv3", padding: 0), norm: try norm("norm3"))
                output = try UnetResBlock(
                    conv1: try conv("conv1", padding: 1), norm1: try norm("norm1"), conv2: try conv("conv2", padding: 1),
                    norm2: try norm("norm2"),
                    downsample: downsample
                ).forward(input)
            case "UnetBasicBlock":
                output = try UnetBasicBlock(
                    conv1: try conv("conv1", padding: 1), norm1: try norm("norm1"), conv2: try conv("conv2", padding: 1),
                    norm2: try norm("norm2")
                ).forward(input)
            default:
                output = try conv("conv", padding: 0).forward(input)
            }
        case "UnetrUpBlock", "UnetrPrUpBlock":
            // The block's state dict, under a prefix as it would sit inside UNETR.
            var state = StateDict(
                Dictionary(
                    uniqueKeysWithValues: try fixture.tensors.compactMap { key, _ in
                        ["input", "output", "skip"].contains(key)
                            ? nil : ("block.\(key)", try #require(try Self.tensor(fixture.tensors[key])))
                    }))
            let residual = fixture.options["residual"] == 1
            if fixture.layer == "UnetrUpBlock" {
                output = try UnetrUpBlock.load("block", residual: residual, from: &state)
                    .forward(input, skip: try #require(try Self.tensor(fixture.tensors["skip"])))
            } else {
                output = try UnetrPrUpBlock.load(
                    "block", layers: Int(fixture.options["layers"] ?? 0), convBlock: fixture.options["convBlock"] == 1, residual: residual,
                    from: &state
                ).forward(input)
            }
            #expect(state.unused.isEmpty, "unused keys: \(state.unused)")
        case "UNETR":
            let configuration = try JSONDecoder().decode(UNETRConfiguration.self, from: try #require(fixture.config))
            let state = StateDict(
                Dictionary(
                    uniqueKeysWithValues: try fixture.tensors.compactMap { key, _ in
                        ["input", "output"].contains(key) ? nil : (key, try #require(try Self.tensor(fixture.tensors[key])))
                    }))
            output = try UNETR(configuration: configuration, state: state).forward(input)
        case "SABlock":
            output = try SelfAttention(
                heads: Int(fixture.options["heads"] ?? 1),
                qkv: Linear(
                    weight: try #require(try Self.tensor(fixture.tensors["qkv.weight"])), bias: try Self.tensor(fixture.tensors["qkv.bias"])
                ),
                outputProjection: Linear(
                    weight: try #require(try Self.tensor(fixture.tensors["out_proj.weight"])),
                    bias: try Self.tensor(fixture.tensors["out_proj.bias"]))
            ).forward(input)
        case "BatchNorm3d":
            output = BatchNorm3d(
                weight: weight!, bias: bias!, runningMean: try #require(try Self.tensor(fixture.tensors["running_mean"])),
                runningVariance: try #require(try Self.tensor(fixture.tensors["running_var"]))
            ).forward(input)
        default:
            Issue.record("unknown layer \(fixture.layer)")
            return
        }
        #expect(output.shape == expected.shape)
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(
            output.maximumDifference(from: expected) <= 1e-4 * scale,
            "\(fixture.name): Δ \(output.maximumDifference(from: expected)) vs max \(scale)")
    }

    @Test(".npy files round-trip, and what is not float32 C-order is refused")
    func numpy() throws {
        let tensor = Tensor(shape: [2, 3, 4], values: (0..<24).map { Float($0) * 0.5 - 3 })
        #expect(try NumpyArray.read(NumpyArray.write(tensor)) == tensor)
        let vector = Tensor(shape: [5], values: [1, 2, 3, 4, 5])
        #expect(try NumpyArray.read(NumpyArray.write(vector)) == vector)
        var header = NumpyArray.write(tensor)
        let range = header.range(of: Data("<f4".utf8))!
        header.replaceSubrange(range, with: Data("<f8".utf8))
        #expect(throws: NeuralEngineError.self) { _ = try NumpyArray.read(header) }
        #expect(throws: NeuralEngineError.self) { _ = try NumpyArray.read(Data("hello".utf8)) }
    }
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("float32, float16 and bfloat16 tensors are read with their names and shapes; metadata too")
    func read() throws {
        let directory = LayerParityTests.directory
        let (state, metadata) = try SafeTensors.read(Data(contentsOf: directory.appendingPathComponent("sample.safetensors")))
        #expect(metadata == ["architecture": "test"])
        #expect(Set(state.tensors.keys) == ["a.weight", "b.bias", "c.half", "d.bfloat"])
        for (key, tensor) in state.tensors {
            let expected = try NumpyArray.read(Data(contentsOf: directory.appendingPathComponent("sample.\(key).npy")))
            #expect(tensor == expected, "\(key)")
        }
    }

    @Test("truncated or malformed files are refused with a message")
    func malformed() throws {
        let data = try Data(contentsOf: LayerParityTests.directory.appendingPathComponent("sample.safetensors"))
        #expect(throws: NeuralEngineError.self) { _ = try SafeTensors.read(data.prefix(data.count - 10)) }
        #expect(throws: NeuralEngineError.self) { _ = try SafeTensors.read(Data([1, 2, 3])) }
        var wrongLength = data
        wrongLength[0] = 0xFF
        wrongLength[1] = 0xFF
        #expect(throws: NeuralEngineError.self) { _ = try SafeTensors.read(wrongLength) }
    }

    @Test("a file read tensor by tensor gives what the whole bytes give; a truncated file is refused")
    func readFile() throws {
        let url = LayerParityTests.directory.appendingPathComponent("sample.safetensors")
        let data = try Data(contentsOf: url)
        let (whole, _) = try SafeTensors.read(data)
        let (streamed, metadata) = try SafeTensors.read(contentsOf: url)
        #expect(streamed.tensors == whole.tensors)
        #expect(metadata == ["architecture": "test"])
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: truncated) }
        try data.prefix(data.count - 10).write(to: truncated)
        #expect(throws: NeuralEngineError.self) { _ = try SafeTensors.read(contentsOf: truncated) }
        #expect(throws: NeuralEngineError.self) { _ = try SafeTensors.read(contentsOf: truncated.appendingPathExtension("missing")) }
    }
}
