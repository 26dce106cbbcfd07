public import Foundation
public import Imaging
import NeuralEngine
public import Segmentation
import StructureSet

/// The deep-learning engine: a UNETR and its model card, run as MONAI would
/// — pre-processing, Gaussian-blended sliding windows, argmax, and every
/// step inverted back to the series' own grid.
public struct UNETREngine: SegmentationEngine {
    /// What a run gives besides the mask, for checks and tools.
    public struct Output: Sendable {
        /// The network's input grid.
        public var prepared: Grid
        /// Blended logits per output channel, on the prepared grid.
        public var logits: [Grid]
        /// The argmax label of every voxel of the volume, in the volume's order.
        public var labels: [Int32]
    }

    public let card: ModelCard
    let network: UNETR

    public var name: String { "unetr" }
    public var version: String { card.version ?? card.name ?? "unversioned" }
    public var plausibility: LesionPlausibility { card.postprocessing?.plausibility ?? .defaults }
    public var notice: String { card.notice ?? GeneratingAlgorithm.defaultNotice }
    public var roiInterpretedType: String { card.roi_interpreted_type ?? "" }
    public var sequences: [SeriesChoice.Sequence] {
        card.sequences.map { SeriesChoice.sequences(named: $0[0]) } ?? SeriesChoice.defaultSequences
    }

    public init(card: ModelCard, weights: URL) throws(ModelInferenceError) {
        self.card = card
        let state: StateDict
        do {
            state = try SafeTensors.read(contentsOf: weights).state
        } catch {
            throw ModelInferenceError("cannot read the weights: \(error.description)")
        }
        do {
            network = try UNETR(configuration: card.architecture, state: state)
        } catch {
            throw ModelInferenceError("the weights \(weights.lastPathComponent) do not fit the model card: \(error.description)")
        }
    }

    /// The engine described by a model card file; its weights are the card's
    /// `weights` file in the same folder, or the card's name with `.safetensors`.
    public static func load(card url: URL) throws(ModelInferenceError) -> UNETREngine {
        let card: ModelCard
        do {
            card = try ModelCard.load(Data(contentsOf: url))
        } catch let error as ModelInferenceError {
            throw error
        } catch {
            throw ModelInferenceError("cannot read the model card \(url.path): \(error.localizedDescription)")
        }
        let weights = url.deletingLastPathComponent().appendingPathComponent(
            card.weights ?? url.deletingPathExtension().lastPathComponent + ".safetensors")
        return try UNETREngine(card: card, weights: weights)
    }

    public func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool] {
        let lesions = Set(card.lesion_labels.map(Int32.init))
        return try run(volume, progress: progress).labels.map { lesions.contains($0) }
    }

    /// Lesion components (26-connected) under `minimumSize` voxels become background.
    static func removeSmallObjects(_ labels: inout [Float], shape: SIMD3<Int>, minimumSize: Int, lesionLabels: [Int]) {
        let lesions = Set(lesionLabels.map(Float.init))
        let (components, count) = ConnectedComponents.label(
            labels.map { lesions.contains($0) }, columns: shape.x, rows: shape.y, slices: shape.z)
        var sizes = [Int](repeating: 0, count: count + 1)
        for component in components { sizes[Int(component)] += 1 }
        for index in labels.indices where components[index] > 0 && sizes[Int(components[index])] < minimumSize { labels[index] = 0 }
    }

    /// The whole pipeline on a volume.
    public func run(_ volume: Volume, progress: (Double) -> Void = { _ in }) throws -> Output {
        let preprocessing = try ModelPreprocessing(volume, card: card.preprocessing)
        let settings = card.inference
        let inference = SlidingWindowInference(
            roiSize: SIMD3(settings.roi_size[0], settings.roi_size[1], settings.roi_size[2]), overlap: settings.overlap,
            gaussian: settings.mode == "gaussian", sigmaScale: settings.sigma_scale ?? 0.125, cval: settings.cval ?? 0)
        let logits = try inference.run(preprocessing.image, outputChannels: network.configuration.out_channels, progress: progress) {
            window in
            try network.forward(window)
        }
        var labels = [Float](repeating: 0, count: preprocessing.image.values.count)
        for index in labels.indices {
            var best = 0
            for channel in 1..<logits.count where logits[channel].values[index] > logits[best].values[index] { best = channel }
            labels[index] = Float(best)
        }
        if let minimum = card.postprocessing?.remove_small_objects?.min_size {
            Self.removeSmallObjects(&labels, shape: preprocessing.image.shape, minimumSize: minimum, lesionLabels: card.lesion_labels)
        }
        let back = preprocessing.invert(
            labels: Grid(shape: preprocessing.image.shape, values: labels, coordinates: preprocessing.image.coordinates))
        return Output(prepared: preprocessing.image, logits: logits, labels: back.values.map { Int32($0) })
    }
}
