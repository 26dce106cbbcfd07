import Foundation
import NeuralEngine
import Testing

@testable import ModelInference

/// Bundle configurations in the syntax of MONAI's own segmentation bundles, read into model cards.
@Suite("MONAI bundle configurations")
struct MONAIBundleTests {
    /// A config shaped like swin_unetr_btcv_segmentation's: CT, 14 organs, a SwinUNETR with the img_size older MONAI took.
    static let btcv = #"""
        {
          "imports": ["$import glob", "$import os"],
          "bundle_root": ".",
          "output_dir": "$@bundle_root + '/eval'",
          "datalist": "$list(sorted(glob.glob(@dataset_dir + '/imagesTs/*.nii.gz')))",
          "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
          "network_def": {"_target_": "SwinUNETR", "spatial_dims": 3, "img_size": 96, "in_channels": 1, "out_channels": 14,
                          "feature_size": 48, "use_checkpoint": false},
          "network": "$@network_def.to(@device)",
          "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "LoadImaged", "keys": "image", "reader": "ITKReader"},
            {"_target_": "EnsureChannelFirstd", "keys": "image"},
            {"_target_": "Orientationd", "keys": "image", "axcodes": "RAS"},
            {"_target_": "Spacingd", "keys": "image", "pixdim": [1.5, 1.5, 2.0], "mode": "bilinear"},
            {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": -175, "a_max": 250, "b_min": 0.0, "b_max": 1.0,
             "clip": true},
            {"_target_": "EnsureTyped", "keys": "image"}]},
          "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [96, 96, 96], "sw_batch_size": 4, "overlap": 0.5},
          "postprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "Activationsd", "keys": "pred", "softmax": true},
            {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image", "nearest_interp": false,
             "to_tensor": true},
            {"_target_": "AsDiscreted", "keys": "pred", "argmax": true},
            {"_target_": "KeepLargestConnectedComponentd", "keys": "pred", "applied_labels": [1]},
            {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir"}]},
          "evaluator": {"_target_": "SupervisedEvaluator", "device": "@device", "network": "@network"},
          "run": ["$@evaluator.run()"]
        }
        """#

    @Test("a SwinUNETR bundle becomes a card: network, transforms, inferer defaults, softmax with probabilities inverted")
    func swinBundle() throws {
        let bundle = try MONAIBundle(config: Data(Self.btcv.utf8), metadata: nil, options: .init(name: "btcv"))
        let card = try ModelCard.load(JSONSerialization.data(withJSONObject: bundle.card))
        #expect(card.engineName == "swinunetr")
        #expect(card.architecture.outputChannels == 14 && card.architecture.sizeMultiple == 32)
        #expect(card.preprocessing.orientation == "RAS" && card.preprocessing.spacing == [1.5, 1.5, 2])
        #expect(card.preprocessing.intensity.transform == "ScaleIntensityRange" && card.preprocessing.intensity.a_min == -175)
        #expect(card.inference.roi_size == [96, 96, 96] && card.inference.overlap == 0.5 && card.inference.mode == "constant")
        #expect(card.activation == .softmax && card.postprocessing?.nearest_interp == false)
        #expect(card.postprocessing?.keep_largest_connected_component?.applied_labels == [1])
        #expect(card.lesion_labels == Array(1..<14))
        #expect(bundle.notes.contains { $0.contains("no channel_def") })
    }

    @Test("what a bundle asks that Metis does not run is refused by name")
    func refusals() throws {
        func refusal(_ edit: (inout String) -> Void) -> String {
            var config = Self.btcv
            edit(&config)
            do {
                _ = try MONAIBundle(config: Data(config.utf8), metadata: nil)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(
            refusal { $0 = $0.replacingOccurrences(of: #""feature_size": 48"#, with: #""feature_size": "$48""#) }
                .contains("expression \"$48\" at network_def#feature_size is not supported"))
        #expect(
            refusal { $0 = $0.replacingOccurrences(of: #""_target_": "EnsureTyped""#, with: #""_target_": "RandGaussianNoised""#) }
                .contains("preprocessing transform RandGaussianNoised is not one Metis runs"))
        #expect(
            refusal { $0 = $0.replacingOccurrences(of: #""SlidingWindowInferer""#, with: #""SimpleInferer""#) }
                .contains("inferer SimpleInferer is not supported"))
        #expect(
            refusal { $0 = $0.replacingOccurrences(of: #""_target_": "SwinUNETR""#, with: #""_target_": "UNet""#) }
                .contains("network \"UNet\" is not supported"))
        #expect(
            refusal { $0 = $0.replacingOccurrences(of: #""roi_size": [96, 96, 96]"#, with: #""roi_size": "@missing""#) }
                .contains("reference @missing names nothing"))
        #expect(refusal { $0 = "name: yaml" }.contains("not JSON"))
    }
}
