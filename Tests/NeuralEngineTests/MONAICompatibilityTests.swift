import Foundation
import Testing

@testable import NeuralEngine

/// MONAI checkpoints as MONAI writes them (Tests/Fixtures/neural/make_monai_fixtures.py):
/// the constructor call as JSON, with MONAI's defaults left out, and the whole
/// `state_dict()` with its int64 `num_batches_tracked` buffers; Metis's logits
/// against MONAI's within 1e-4 · max |logit|, the same labels on ≥ 99.99 % of voxels.
@Suite("MONAI checkpoints drop in")
struct MONAICompatibilityTests {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("monai")
    static let cases: [String] = {
        let manifest = try? JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        return (manifest as? [String: Any])?["cases"] as? [String] ?? []
    }()

    @Test("the generator's cases are all here: eleven UNETRs, five SegResNets, two SwinUNETRs")
    func manifest() {
        #expect(
            Self.cases.count == 18 && Self.cases.filter { $0.hasPrefix("segresnet") }.count == 5
                && Self.cases.filter { $0.hasPrefix("swinunetr") }.count == 2, "\(Self.cases)")
    }

    @Test("logits and labels match MONAI's", arguments: cases)
    func parity(_ name: String) throws {
        let call = try Data(contentsOf: Self.directory.appendingPathComponent("\(name).json"))
        let (state, _) = try SafeTensors.read(contentsOf: Self.directory.appendingPathComponent("\(name).safetensors"))
        #expect(state.tensors.keys.contains { $0.hasSuffix("num_batches_tracked") } == name.contains("batch"))
        let network = try MONAINetwork(call: call, state: state)
        switch network {
        case .unetr: #expect(name.hasPrefix("unetr"))
        case .segResNet: #expect(name.hasPrefix("segresnet"))
        case .swinUNETR: #expect(name.hasPrefix("swinunetr"))
        }
        let input = try NumpyArray.read(Data(contentsOf: Self.directory.appendingPathComponent("\(name).input.npy")))
        let expected = try NumpyArray.read(Data(contentsOf: Self.directory.appendingPathComponent("\(name).output.npy")))
        let logits = try network.forward(input)
        try #require(logits.shape == expected.shape)
        let scale = expected.values.reduce(0) { max($0, abs($1)) }
        #expect(logits.maximumDifference(from: expected) <= 1e-4 * scale, "max |Δ| \(logits.maximumDifference(from: expected))")
        let channels = expected.shape[1], voxels = expected.count / channels
        func label(_ tensor: Tensor, _ voxel: Int) -> Int {
            (0..<channels).max { tensor.values[$0 * voxels + voxel] < tensor.values[$1 * voxels + voxel] }!
        }
        let agreeing = (0..<voxels).filter { label(logits, $0) == label(expected, $0) }.count
        #expect(Double(agreeing) >= 0.9999 * Double(voxels), "\(voxels - agreeing) of \(voxels) voxels labelled differently")
    }

    @Test("MONAI's defaults and spellings are read as MONAI reads them")
    func arguments() throws {
        let bare = try JSONDecoder().decode(
            UNETRConfiguration.self, from: Data(#"{"in_channels": 1, "out_channels": 2, "img_size": 96}"#.utf8))
        #expect(bare.img_size == [96, 96, 96] && bare.feature_size == 16 && bare.hidden_size == 768 && bare.mlp_dim == 3072)
        #expect(bare.num_heads == 12 && bare.proj_type == "conv" && bare.norm_name == NormSpec(.instance) && bare.conv_block)
        #expect(bare.res_block && bare.spatial_dims == 3 && !bare.qkv_bias && bare.dropout_rate == 0)
        let tuple = try JSONDecoder().decode(
            UNETRConfiguration.self,
            from: Data(
                #"{"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "norm_name": ["GROUP", {"num_groups": 2, "eps": 0.001}]}"#
                    .utf8))
        #expect(
            tuple.norm_name.kind == .group && tuple.norm_name.groups == 2 && tuple.norm_name.epsilon == 0.001 && tuple.norm_name.hasAffine)
        // Written back as given, so a card survives a round trip.
        let again = try JSONDecoder().decode(UNETRConfiguration.self, from: JSONEncoder().encode(tuple))
        #expect(again == tuple)
        // So do MONAI's defaults set in code: SegResNet's GROUP norm of 8 and ReLU, and a LeakyReLU slope.
        var segResNet = SegResNetConfiguration()
        #expect(try JSONDecoder().decode(SegResNetConfiguration.self, from: JSONEncoder().encode(segResNet)) == segResNet)
        segResNet.act = ActivationSpec(.leakyrelu, slope: 0.2)
        segResNet.norm = NormSpec(.instance, affine: true, epsilon: 1e-3)
        #expect(try JSONDecoder().decode(SegResNetConfiguration.self, from: JSONEncoder().encode(segResNet)) == segResNet)
    }

    @Test(
        "what Metis cannot honour is refused by name",
        arguments: [
            (#"{"in_channels": 1, "out_channels": 2, "img_size": 32, "pos_embed": "conv"}"#, "pos_embed"),
            (#"{"in_channels": 1, "out_channels": 2, "img_size": 32, "norm_name": ["instance", {"elementwise": true}]}"#, "elementwise"),
            (#"{"in_channels": 1, "out_channels": 2, "img_size": 32, "norm_name": "layer"}"#, "\"layer\""),
            (#"{"in_channels": 1, "out_channels": 2, "img_size": [32, 32], "spatial_dims": 2}"#, "spatial_dims 2"),
            (#"{"in_channels": 1, "out_channels": 2, "img_size": [32, 32]}"#, "one size per axis"),
            (#"{"name": "SegResNet", "in_channels": 1, "out_channels": 2, "img_size": 32}"#, "SegResNet"),
            (#"{"in_channels": 1, "img_size": 32}"#, "out_channels is required"),
            (#"{"in_channels": 1, "out_channels": 2, "img_size": 32, "norm_name": ["group", {}]}"#, "num_groups"),
            (#"{"name": "SegResNet", "act": "PRELU"}"#, "\"PRELU\""),
            (#"{"name": "SegResNet", "act": ["relu", {"negative_slope": 0.1}]}"#, "negative_slope"),
            (#"{"name": "SegResNet", "upsample_mode": "pixelshuffle"}"#, "pixelshuffle"),
            (#"{"name": "SegResNet", "norm_name": "batch"}"#, "norm_name"),
            (#"{"name": "SegResNet", "blocks_down": [1, 1], "blocks_up": [1, 1]}"#, "blocks_up"),
            (#"{"name": "SegResNet", "img_size": 96}"#, "img_size"),
            (#"{"name": "SwinUNETR", "in_channels": 1, "out_channels": 2}"#, "SwinUNETR"),
        ])
    func refusals(_ json: String, _ named: String) {
        do {
            _ = try MONAINetwork(call: Data(json.utf8), state: StateDict([:]))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.contains(named), "\(error.description)")
        }
    }

    @Test("a state dict whose norms are not the declared ones is refused, listing the keys")
    func mismatchedNorm() throws {
        var call = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("unetr-instance-affine.json")))
                as? [String: Any])
        call["norm_name"] = "instance"
        let configuration = try JSONDecoder().decode(UNETRConfiguration.self, from: JSONSerialization.data(withJSONObject: call))
        let (state, _) = try SafeTensors.read(contentsOf: Self.directory.appendingPathComponent("unetr-instance-affine.safetensors"))
        do {
            _ = try UNETR(configuration: configuration, state: state)
            Issue.record("loaded affine norms into a network without them")
        } catch {
            #expect(error.description.contains("does not use") && error.description.contains("norm1.weight"), "\(error)")
        }
    }
}
