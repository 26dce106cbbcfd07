public import Foundation
public import NeuralEngine
public import Segmentation

/// A model's description (`Weights/NAME.json`): the UNETR architecture under
/// MONAI's constructor argument names, the labels' meaning, and the MONAI
/// pre-processing and sliding-window settings it was trained with. Nothing
/// about a model is hard-coded elsewhere.
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
    /// (before the inversion): components under `min_size` voxels become
    /// background. Only `connectivity` 3 (26 neighbours, as Metis labels lesions).
    public struct RemoveSmallObjects: Sendable, Codable, Equatable {
        public var min_size: Int
        public var connectivity: Int?
    }

    /// After the argmax.
    public struct Postprocessing: Sendable, Codable, Equatable {
        public var remove_small_objects: RemoveSmallObjects?
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
    public var architecture: UNETRConfiguration
    /// Output channel → meaning ("0": "background").
    public var labels: [String: String]
    /// The output channels that are lesions.
    public var lesion_labels: [Int]
    /// The weights file, next to the card.
    public var weights: String?
    public var preprocessing: Preprocessing
    public var inference: Inference
    public var postprocessing: Postprocessing?
    public var version: String?
    public var description: String?
    /// The MR sequences the model reads, one list per input channel: "t1c"
    /// (post-contrast T1), "flair", "t2", "t1" (without contrast), "dwi".
    /// Absent: post-contrast T1 or FLAIR, the sequences Metis's shipped models read.
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
        case name, architecture, labels, lesion_labels, weights, preprocessing, inference, postprocessing, version, description, sequences,
            notice, roi_interpreted_type
    }

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
        guard i.roi_size == architecture.img_size else {
            throw ModelInferenceError("inference.roi_size \(i.roi_size) differs from the network's img_size \(architecture.img_size)")
        }
        guard (0..<1).contains(i.overlap) else { throw ModelInferenceError("inference.overlap must be in [0, 1), got \(i.overlap)") }
        guard ["gaussian", "constant"].contains(i.mode) else {
            throw ModelInferenceError("inference.mode must be \"gaussian\" or \"constant\", got \"\(i.mode)\"")
        }
        guard (i.padding_mode ?? "constant") == "constant" else {
            throw ModelInferenceError("inference.padding_mode \"\(i.padding_mode ?? "")\" is not supported; use \"constant\"")
        }
        guard architecture.in_channels == 1 else {
            throw ModelInferenceError("the network takes \(architecture.in_channels) channels; Metis feeds one MR series")
        }
        guard !lesion_labels.isEmpty, lesion_labels.allSatisfy({ (0..<architecture.out_channels).contains($0) && $0 != 0 }) else {
            throw ModelInferenceError("lesion_labels \(lesion_labels) must name output channels 1..<\(architecture.out_channels)")
        }
        if let sequences {
            guard sequences.count == architecture.in_channels, sequences.allSatisfy({ !$0.isEmpty }) else {
                throw ModelInferenceError(
                    "sequences must hold one non-empty list per input channel (\(architecture.in_channels)), got \(sequences)")
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
