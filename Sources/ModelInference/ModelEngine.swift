public import Foundation
public import Imaging
public import NeuralEngine
public import Segmentation
import StructureSet

/// The deep-learning engine: a MONAI network (UNETR, SegResNet, SwinUNETR) and its model
/// card, run as MONAI would — pre-processing, Gaussian-blended sliding
/// windows, softmax + argmax or sigmoid + threshold, small objects removed —
/// and every step inverted back to the series' own grid. Its name is the
/// network's in lower case ("unetr", "segresnet").
public struct ModelEngine: SegmentationEngine {
    /// What a run gives besides the mask, for checks and tools.
    public struct Output: Sendable {
        /// The network's input grid (first channel).
        public var prepared: Grid
        /// Every input channel on that grid.
        public var preparedChannels: [Grid]
        /// Blended logits per output channel, on the prepared grid.
        public var logits: [Grid]
        /// Per voxel of the volume, in the volume's order: the argmax label
        /// under softmax; under sigmoid, bit k set when channel k is above the threshold.
        public var labels: [Int32]
    }

    public let card: ModelCard
    let network: MONAINetwork

    public var name: String { card.engineName }
    public var version: String { card.version ?? card.name ?? "unversioned" }
    public var plausibility: LesionPlausibility { card.postprocessing?.plausibility ?? .defaults }
    public var notice: String { card.notice ?? GeneratingAlgorithm.defaultNotice }
    public var roiInterpretedType: String { card.roi_interpreted_type ?? "" }
    public var channels: [[SeriesChoice.Sequence]] {
        card.sequences.map { $0.map(SeriesChoice.sequences(named:)) } ?? [SeriesChoice.defaultSequences]
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
            network = try MONAINetwork(architecture: card.architecture, state: state)
        } catch {
            throw ModelInferenceError("the weights \(weights.lastPathComponent) do not fit the model card: \(error.description)")
        }
    }

    /// The engine described by a model card file; its weights are the card's
    /// `weights` file in the same folder, or the card's name with `.safetensors`.
    public static func load(card url: URL) throws(ModelInferenceError) -> ModelEngine {
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
        return try ModelEngine(card: card, weights: weights)
    }

    public func segment(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> [Bool] {
        try segmentLabels(volume, channels: channels, progress: progress).lesions
    }

    /// The lesions (the card's `lesion_labels`) and each other label but the background, by the card's names and colours.
    public func segmentLabels(_ volume: Volume, channels: [[Float]], progress: @Sendable (Double) -> Void) throws -> (
        lesions: [Bool], labels: [OutputLabel]
    ) {
        let labels = try run(volume, channels: channels, progress: progress).labels
        func mask(_ channels: [Int]) -> [Bool] {
            let tests = channels.map(holds)
            return labels.map { label in tests.contains { $0(label) } }
        }
        let others = labelChannels.filter { !card.lesion_labels.contains($0) }
        return (
            mask(card.lesion_labels),
            others.map { channel in
                let rgb = card.label_colors?["\(channel)"] ?? Self.palette[channel % Self.palette.count]
                return OutputLabel(
                    name: card.labels["\(channel)"] ?? "label \(channel)", color: .init(red: rgb[0], green: rgb[1], blue: rgb[2]),
                    mask: mask([channel]))
            }
        )
    }

    /// Colours of labels other than lesions, when the card names none: apart from the lesions' palette.
    static let palette = [[0, 255, 255], [255, 0, 255], [255, 160, 0], [128, 128, 255], [160, 255, 160], [255, 255, 255]]

    /// Lesion components (26-connected) under `minimumSize` voxels become background (labels of a softmax).
    static func removeSmallObjects(_ labels: inout [Float], shape: SIMD3<Int>, minimumSize: Int, lesionLabels: [Int]) {
        let lesions = Set(lesionLabels.map(Float.init))
        let (components, sizes) = Self.components(of: labels, shape: shape) { lesions.contains($0) }
        for index in labels.indices where components[index] > 0 && sizes[Int(components[index])] < minimumSize { labels[index] = 0 }
    }

    /// The 26-connected component (1-based, 0 where not `selected`) of each voxel, and the size of each component (index 0 unused).
    static func components(of labels: [Float], shape: SIMD3<Int>, selected: (Float) -> Bool) -> (components: [Int32], sizes: [Int]) {
        let (components, count) = ConnectedComponents.label(labels.map(selected), columns: shape.x, rows: shape.y, slices: shape.z)
        var sizes = [Int](repeating: 0, count: count + 1)
        for component in components { sizes[Int(component)] += 1 }
        return (components, sizes)
    }

    /// The output channels that are labels: all under sigmoid, all but the background (0) under softmax.
    var labelChannels: Range<Int> { (card.activation == .sigmoid ? 0 : 1)..<network.outputChannels }

    /// Whether a voxel's label holds output channel `channel`: bit k under sigmoid, the label itself under softmax.
    func holds(_ channel: Int) -> (Int32) -> Bool {
        card.activation == .sigmoid ? { $0 & (1 << channel) != 0 } : { $0 == Int32(channel) }
    }

    /// A label with `channel` taken out: its bit cleared under sigmoid, the background under softmax.
    func removing(_ channel: Int, from label: Float) -> Float {
        card.activation == .sigmoid ? Float(Int32(label) & ~(1 << channel)) : 0
    }

    /// The whole pipeline on a single-channel volume.
    public func run(_ volume: Volume, progress: (Double) -> Void = { _ in }) throws -> Output {
        try run(volume, channels: [volume.voxels], progress: progress)
    }

    /// The whole pipeline on `channels` (one per input channel, on `volume`'s grid, in the card's order).
    public func run(_ volume: Volume, channels: [[Float]], progress: (Double) -> Void = { _ in }) throws -> Output {
        guard channels.count == network.inputChannels else {
            throw ModelInferenceError("the network takes \(network.inputChannels) channel(s), given \(channels.count)")
        }
        var inputs = channels
        if card.preprocessing.skull_strip ?? false {
            let inside = IntracranialMask().mask(of: volume)
            for channel in inputs.indices {
                for index in inside.indices where !inside[index] { inputs[channel][index] = 0 }
            }
        }
        let preprocessing = try ModelPreprocessing(channels: inputs, of: volume, card: card.preprocessing)
        inputs = []
        let settings = card.inference
        let inference = SlidingWindowInference(
            roiSize: SIMD3(settings.roi_size[0], settings.roi_size[1], settings.roi_size[2]), overlap: settings.overlap,
            gaussian: settings.mode == "gaussian", sigmaScale: settings.sigma_scale ?? 0.125, cval: settings.cval ?? 0)
        let logits = try inference.run(channels: preprocessing.channels, outputChannels: network.outputChannels, progress: progress) {
            window in
            try network.forward(window)
        }
        let shape = preprocessing.image.shape
        let coordinates = preprocessing.image.coordinates
        if card.postprocessing?.nearest_interp == false {
            // MONAI's bundles: Activations → Invertd (bilinear) → AsDiscrete on the series' grid.
            let probabilities = Self.activate(logits.map(\.values), card.activation).map {
                preprocessing.invert(Grid(shape: shape, values: $0, coordinates: coordinates), mode: .linear).values
            }
            var labels = decide(probabilities, probabilities: true)
            let volumeShape = SIMD3(volume.columns, volume.rows, volume.slices)
            removeSmallObjects(&labels, shape: volumeShape)
            return Output(
                prepared: preprocessing.image, preparedChannels: preprocessing.channels, logits: logits, labels: labels.map { Int32($0) })
        }
        var labels = decide(logits.map(\.values), probabilities: false)
        removeSmallObjects(&labels, shape: shape)
        let back = preprocessing.invert(labels: Grid(shape: shape, values: labels, coordinates: coordinates))
        return Output(
            prepared: preprocessing.image, preparedChannels: preprocessing.channels, logits: logits,
            labels: back.values.map { Int32($0) })
    }

    /// Per voxel: the argmax under softmax; under sigmoid, bit k for each channel k above the threshold
    /// (on the logits, sigmoid(x) > t ⟺ x > log(t / (1 − t)), or on the probabilities).
    func decide(_ channels: [[Float]], probabilities: Bool) -> [Float] {
        var labels = [Float](repeating: 0, count: channels[0].count)
        switch card.activation {
        case .softmax:
            for index in labels.indices {
                var best = 0
                for channel in 1..<channels.count where channels[channel][index] > channels[best][index] { best = channel }
                labels[index] = Float(best)
            }
        case .sigmoid:
            let threshold = card.postprocessing?.threshold ?? 0.5
            let cut = probabilities ? threshold : log(threshold / (1 - threshold))
            var bits = [Int32](repeating: 0, count: labels.count)
            for (channel, values) in channels.enumerated() {
                for index in bits.indices where values[index] > cut { bits[index] |= 1 << channel }
            }
            labels = bits.map(Float.init)
        }
        return labels
    }

    /// The card's `remove_small_objects` on the lesion labels (channel by channel under sigmoid, as MONAI's on a multi-channel
    /// image), then its `keep_largest_connected_component`.
    func removeSmallObjects(_ labels: inout [Float], shape: SIMD3<Int>) {
        defer { keepLargestComponents(&labels, shape: shape) }
        guard let minimum = card.postprocessing?.remove_small_objects?.min_size else { return }
        switch card.activation {
        case .softmax:
            Self.removeSmallObjects(&labels, shape: shape, minimumSize: minimum, lesionLabels: card.lesion_labels)
        case .sigmoid:
            for channel in card.lesion_labels {
                let test = holds(channel)
                let (components, sizes) = Self.components(of: labels, shape: shape) { test(Int32($0)) }
                for index in labels.indices where components[index] > 0 && sizes[Int(components[index])] < minimum {
                    labels[index] = removing(channel, from: labels[index])
                }
            }
        }
    }

    /// MONAI's `KeepLargestConnectedComponent` with `independent`: each applied label keeps its largest 26-connected component.
    func keepLargestComponents(_ labels: inout [Float], shape: SIMD3<Int>) {
        guard let keep = card.postprocessing?.keep_largest_connected_component else { return }
        for channel in keep.applied_labels ?? Array(labelChannels) {
            let test = holds(channel)
            let (components, sizes) = Self.components(of: labels, shape: shape) { test(Int32($0)) }
            guard sizes.count > 2 else { continue }
            // The first of the largest on ties, as MONAI's argmax over component sizes.
            let largest = (1..<sizes.count).max { sizes[$0] < sizes[$1] || (sizes[$0] == sizes[$1] && $0 > $1) }!
            for index in labels.indices where components[index] > 0 && Int(components[index]) != largest {
                labels[index] = removing(channel, from: labels[index])
            }
        }
    }

    /// Softmax over the channels at each voxel, or the sigmoid of each.
    static func activate(_ logits: [[Float]], _ activation: ModelCard.Activation) -> [[Float]] {
        var out = logits
        switch activation {
        case .sigmoid:
            for channel in out.indices { out[channel] = out[channel].map { 1 / (1 + exp(-$0)) } }
        case .softmax:
            for index in out[0].indices {
                var peak = -Float.infinity
                for channel in out.indices { peak = max(peak, logits[channel][index]) }
                var sum: Float = 0
                for channel in out.indices {
                    let e = exp(logits[channel][index] - peak)
                    out[channel][index] = e
                    sum += e
                }
                for channel in out.indices { out[channel][index] /= sum }
            }
        }
        return out
    }
}

extension ModelEngine {
    public func segment(_ volume: Volume, progress: @Sendable (Double) -> Void) throws -> [Bool] {
        try segment(volume, channels: [volume.voxels], progress: progress)
    }
}
