public import Foundation
public import NeuralEngine
public import Segmentation

/// A model's description (`Weights/NAME.json`): the network as MONAI's
/// constructor call (UNETR or SegResNet), the MR sequence of each input
/// channel, the labels' meaning, and the MONAI pre-processing, sliding-window
/// and post-processing settings it was trained with. Nothing about a model is
/// hard-coded elsewhere.
public struct ModelCard: Sendable, Codable, Equatable {
    /// MONAI's intensity transform, by its name.
    public struct Intensity: Sendable, Codable, Equatable {
        /// "NormalizeIntensity" or "ScaleIntensityRange".
        public var transform: String
        public var nonzero: Bool?
        public var channel_wise: Bool?
        public var a_min: Float?
        public var a_max: Float?
        public var b_min: Float?
        public var b_max: Float?
        public var clip: Bool?
    }

    /// MONAI's `CropForeground` on the resampled image: samples above `threshold`, `margin` samples more.
    public struct CropForeground: Sendable, Codable, Equatable {
        public var threshold: Float
        public var margin: Int
    }

    /// Orientation, spacing, crop and intensity, in that order.
    public struct Preprocessing: Sendable, Codable, Equatable {
        /// MONAI axis codes ("RAS").
        public var orientation: String
        /// Target spacing (mm) along the reoriented axes.
        public var spacing: [Double]
        public var intensity: Intensity
        public var crop_foreground: CropForeground?
        /// Multiplies every channel by Metis's intracranial mask of the first
        /// (its skull stripping), for models trained on skull-stripped images such as the BraTS bundles'.
        public var skull_strip: Bool?
    }

    /// `sliding_window_inference`'s arguments.
    public struct Inference: Sendable, Codable, Equatable {
        public var roi_size: [Int]
        public var sw_batch_size: Int?
        public var overlap: Double
        /// "gaussian" or "constant".
        public var mode: String
        public var sigma_scale: Double?
        /// Only "constant" is supported.
        public var padding_mode: String?
        public var cval: Float?
    }

    /// MONAI's `RemoveSmallObjects` on the lesion mask, on the model's grid
    /// (before the inversion; after it on the series' grid when
    /// `nearest_interp` is false): components under `min_size` voxels become
    /// background. Only `connectivity` 3 (26 neighbours, as Metis labels lesions).
    public struct RemoveSmallObjects: Sendable, Codable, Equatable {
        public var min_size: Int
        public var connectivity: Int?
    }

    /// MONAI's `KeepLargestConnectedComponent` (`independent`, the default):
    /// for each of `applied_labels` (all labels but the background when
    /// absent) only its largest component stays, at the same step as
    /// `remove_small_objects`. Only `connectivity` 3 (26 neighbours, MONAI's default in 3-D).
    public struct KeepLargestConnectedComponent: Sendable, Codable, Equatable {
        public var applied_labels: [Int]?
        public var connectivity: Int?
    }

    /// MONAI's `Activations` + `AsDiscrete` on the logits.
    public enum Activation: String, Sendable, Codable, Equatable {
        /// Softmax + argmax: one label per voxel, channel 0 the background.
        case softmax
        /// Sigmoid + threshold per channel: labels may overlap (tumour core inside whole tumour).
        case sigmoid
    }

    /// From the logits to labels, and the lesion mask.
    public struct Postprocessing: Sendable, Codable, Equatable {
        /// Softmax (the default) or sigmoid.
        public var activation: Activation?
        /// The sigmoid's threshold (`AsDiscrete(threshold=…)`), 0.5 by default.
        public var threshold: Float?
        /// MONAI's `Invertd(nearest_interp=…)`: true (the default) inverts the
        /// labels by nearest neighbour; false inverts the probabilities
        /// (softmax or sigmoid) trilinearly and takes the labels on the series'
        /// grid, as MONAI's bundles do (`remove_small_objects` then runs there too).
        public var nearest_interp: Bool?
        public var remove_small_objects: RemoveSmallObjects?
        public var keep_largest_connected_component: KeepLargestConnectedComponent?
        /// The limits a component must meet to be reported (on the series' grid, after the inversion).
        public var plausibility: LesionPlausibility?
    }

    /// What `metis evaluate` measured of the model and of the classical engine, per generator.
    public struct Evaluation: Sendable, Codable, Equatable {
        /// The generator never used for training or for choosing any setting: the figure that says whether the model generalises.
        public var heldOutGenerator: String
        /// Generator → engine ("unetr", "classical") → summary.
        public var generators: [String: [String: EvaluationSummary]]

        enum CodingKeys: String, CodingKey {
            case heldOutGenerator = "held_out_generator"
            case generators
        }
    }

    public var name: String?
    public var architecture: MONAINetwork.Architecture
    /// Output channel → meaning ("0": "background" under softmax).
    public var labels: [String: String]
    /// The output channels whose voxels are the lesions followed up (under softmax, not 0).
    /// Every other label but the background is written as its own ROI or segment, named by `labels`.
    public var lesion_labels: [Int]
    /// Output channel → display colour [red, green, blue] (0...255) of its ROI; a default palette otherwise.
    public var label_colors: [String: [Int]]?
    /// The weights file, next to the card.
    public var weights: String?
    public var preprocessing: Preprocessing
    public var inference: Inference
    public var postprocessing: Postprocessing?
    public var version: String?
    public var description: String?
    /// The MR sequences the model reads, one list per input channel, each in
    /// order of preference: "t1c" (post-contrast T1), "flair", "t2", "t1"
    /// (without contrast), "dwi". Required for several channels; absent for
    /// one: post-contrast T1 or FLAIR, the sequences Metis's shipped models read.
    public var sequences: [[String]]?
    /// What its results are, written into every output ("automatic, research use, not validated on patient data").
    public var notice: String?
    /// RTROIInterpretedType for its ROIs (e.g. "GTV"); absent: empty.
    public var roi_interpreted_type: String?
    /// Read from the card's "evaluation" object (its summaries as `metis evaluate --out` writes them); nil when it has none in that form.
    public var evaluation: Evaluation?
    /// Why the card's "evaluation" could not be read in that form, when it could not.
    public var evaluationError: String?

    enum CodingKeys: String, CodingKey {
        case name, architecture, labels, lesion_labels, label_colors, weights, preprocessing, inference, postprocessing, version,
            description, sequences,
            notice, roi_interpreted_type
    }

    /// Softmax unless the card says sigmoid.
    public var activation: Activation { postprocessing?.activation ?? .softmax }

    /// The engine's name: the network's, in lower case ("unetr", "segresnet").
    public var engineName: String { architecture.name.lowercased() }

    /// The sequence names a card may use.
    public static let knownSequences: Set<String> = ["t1c", "flair", "t2", "t1", "dwi"]

    /// Reads and checks a card.
    public static func load(_ data: Data) throws(ModelInferenceError) -> ModelCard {
        var card: ModelCard
        do {
            card = try JSONDecoder().decode(ModelCard.self, from: data)
        } catch {
            throw ModelInferenceError("the model card is not valid: \(MONAIArguments.describe(error))")
        }
        struct EvaluationField: Decodable { var evaluation: Evaluation? }
        do {
            card.evaluation = try JSONDecoder().decode(EvaluationField.self, from: data).evaluation
        } catch {
            card.evaluationError = "\(error)"
        }
        try card.validate()
        return card
    }

    func validate() throws(ModelInferenceError) {
        let p = preprocessing, i = inference
        guard p.spacing.count == 3, p.spacing.allSatisfy({ $0 > 0 }) else {
            throw ModelInferenceError("preprocessing.spacing must be three positive numbers, got \(p.spacing)")
        }
        guard i.roi_size.count == 3, i.roi_size.allSatisfy({ $0 > 0 }) else {
            throw ModelInferenceError("inference.roi_size must be three positive sizes, got \(i.roi_size)")
        }
        if let size = architecture.fixedSize, i.roi_size != size {
            throw ModelInferenceError("inference.roi_size \(i.roi_size) differs from the network's img_size \(size)")
        }
        let multiple = architecture.sizeMultiple
        guard i.roi_size.allSatisfy({ $0 % multiple == 0 }) else {
            throw ModelInferenceError("inference.roi_size \(i.roi_size) must be multiples of \(multiple) for this \(architecture.name)")
        }
        guard (0..<1).contains(i.overlap) else { throw ModelInferenceError("inference.overlap must be in [0, 1), got \(i.overlap)") }
        guard ["gaussian", "constant"].contains(i.mode) else {
            throw ModelInferenceError("inference.mode must be \"gaussian\" or \"constant\", got \"\(i.mode)\"")
        }
        guard (i.padding_mode ?? "constant") == "constant" else {
            throw ModelInferenceError("inference.padding_mode \"\(i.padding_mode ?? "")\" is not supported; use \"constant\"")
        }
        let channels = architecture.inputChannels, outputs = architecture.outputChannels
        guard channels == 1 || sequences != nil else {
            throw ModelInferenceError("the network takes \(channels) channels: the card's sequences must name the MR sequence of each")
        }
        let sigmoid = activation == .sigmoid
        let first = sigmoid ? 0 : 1
        guard !lesion_labels.isEmpty, lesion_labels.allSatisfy({ (first..<outputs).contains($0) }) else {
            throw ModelInferenceError("lesion_labels \(lesion_labels) must name output channels \(first)..<\(outputs)")
        }
        if let keep = postprocessing?.keep_largest_connected_component {
            guard (keep.connectivity ?? 3) == 3 else {
                throw ModelInferenceError(
                    "keep_largest_connected_component.connectivity \(keep.connectivity ?? 0) is not supported; use 3 (26 neighbours)")
            }
            guard (keep.applied_labels ?? []).allSatisfy({ (first..<outputs).contains($0) }) else {
                throw ModelInferenceError("keep_largest_connected_component.applied_labels must name output channels \(first)..<\(outputs)")
            }
        }
        if let colors = label_colors {
            for (key, color) in colors {
                guard let channel = Int(key), (0..<outputs).contains(channel), color.count == 3,
                    color.allSatisfy({ (0...255).contains($0) })
                else {
                    throw ModelInferenceError("label_colors \"\(key)\": \(color) must name an output channel and three values 0...255")
                }
            }
        }
        if let threshold = postprocessing?.threshold {
            guard sigmoid, threshold > 0, threshold < 1 else {
                throw ModelInferenceError("postprocessing.threshold applies to a sigmoid, between 0 and 1 exclusive")
            }
        }
        if let sequences {
            guard sequences.count == channels, sequences.allSatisfy({ !$0.isEmpty }) else {
                throw ModelInferenceError("sequences must hold one non-empty list per input channel (\(channels)), got \(sequences)")
            }
            let unknown = Set(sequences.joined()).subtracting(Self.knownSequences)
            guard unknown.isEmpty else {
                throw ModelInferenceError(
                    "sequences names \(unknown.sorted()); known: \(Self.knownSequences.sorted().joined(separator: ", "))")
            }
        }
        if let remove = postprocessing?.remove_small_objects {
            guard remove.min_size >= 1 else { throw ModelInferenceError("remove_small_objects.min_size must be at least 1") }
            guard (remove.connectivity ?? 3) == 3 else {
                throw ModelInferenceError(
                    "remove_small_objects.connectivity \(remove.connectivity ?? 0) is not supported; use 3 (26 neighbours)")
            }
        }
        switch p.intensity.transform {
        case "NormalizeIntensity":
            break
        case "ScaleIntensityRange":
            guard let low = p.intensity.a_min, let high = p.intensity.a_max, low != high else {
                throw ModelInferenceError("ScaleIntensityRange needs a_min and a_max, different")
            }
        default:
            throw ModelInferenceError(
                "preprocessing.intensity.transform \"\(p.intensity.transform)\" is not supported; use NormalizeIntensity or ScaleIntensityRange"
            )
        }
    }
}
