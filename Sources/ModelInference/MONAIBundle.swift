public import Foundation
import NeuralEngine

/// A MONAI bundle's inference configuration (`configs/inference.json`, and
/// `configs/metadata.json` for names and labels) read into a Metis model
/// card: the network from `network_def`, the transforms of `preprocessing`,
/// the `inferer` and the `postprocessing`. MONAI's config syntax as its own
/// segmentation bundles use it: `_target_` components (by class name, with
/// or without their module path), `@id` references (`#`-separated paths),
/// and `$@id`; every other `$` expression in a part Metis reads, and every
/// transform Metis does not run, is refused by name. Parts Metis has no use
/// for (devices, data lists, handlers, evaluators) are never evaluated.
public struct MONAIBundle: Sendable {
    /// What the bundle leaves to its data or to the user.
    public struct Options: Sendable {
        /// The MR sequences of each input channel; required for several channels.
        public var sequences: [[String]]?
        /// Axis codes and spacing (mm) the model was trained at, when the bundle has no `Orientationd` or `Spacingd`.
        public var orientation: String?
        public var spacing: [Double]?
        /// The output channels whose voxels are the lesions followed up; default: every channel but the background.
        public var lesionLabels: [Int]?
        public var name: String?

        public init(
            sequences: [[String]]? = nil, orientation: String? = nil, spacing: [Double]? = nil, lesionLabels: [Int]? = nil,
            name: String? = nil
        ) {
            self.sequences = sequences
            self.orientation = orientation
            self.spacing = spacing
            self.lesionLabels = lesionLabels
            self.name = name
        }
    }

    /// The card as JSON (without `weights`), and what the import left out or assumed, in words.
    public var card: [String: Any] { cardObject.value }
    public let notes: [String]
    private let cardObject: UncheckedSendable

    private struct UncheckedSendable: @unchecked Sendable { let value: [String: Any] }

    /// Transforms that only load or type the data (Metis reads DICOM itself) or save the result (Metis writes DICOM).
    static let loading: Set<String> = ["LoadImaged", "EnsureChannelFirstd", "EnsureTyped", "ToTensord", "AddChanneld", "CastToTyped"]
    static let saving: Set<String> = ["SaveImaged", "CopyItemsd"]
    static let preprocessingTransforms = ["Orientationd", "Spacingd", "ScaleIntensityRanged", "NormalizeIntensityd", "CropForegroundd"]
    static let postprocessingTransforms = [
        "Activationsd", "Invertd", "AsDiscreted", "RemoveSmallObjectsd", "KeepLargestConnectedComponentd",
    ]

    /// Reads the bundle's configuration; errors name the part, the transform or the expression at fault.
    public init(config: Data, metadata: Data?, options: Options = Options()) throws(ModelInferenceError) {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: config) as? [String: Any] else {
                throw ModelInferenceError("configs/inference.json is not a JSON object")
            }
            root = object
        } catch let error as ModelInferenceError {
            throw error
        } catch {
            throw ModelInferenceError("configs/inference.json is not JSON (Metis reads JSON bundle configs, not YAML): \(error)")
        }
        var meta: [String: Any] = [:]
        if let metadata {
            meta = (try? JSONSerialization.jsonObject(with: metadata) as? [String: Any]) ?? [:]
        }
        var notes = [String]()
        let resolver = Resolver(root: root)

        // The network.
        guard root["network_def"] != nil || root["network"] != nil else {
            throw ModelInferenceError("the bundle defines no network_def")
        }
        let network = try resolver.component(root["network_def"] != nil ? "network_def" : "network")
        var architecture = try network.resolvedArguments()
        architecture["name"] = network.name
        let parsed: MONAINetwork.Architecture
        do {
            parsed = try MONAINetwork.Architecture.decode(JSONSerialization.data(withJSONObject: architecture))
        } catch let error as NeuralEngineError {
            throw ModelInferenceError("network_def (\(network.name)): \(error.description)")
        } catch {
            throw ModelInferenceError("network_def (\(network.name)): \(error)")
        }

        // Pre-processing.
        var preprocessing: [String: Any] = [:]
        var intensity: [String: Any]?
        for transform in try resolver.transforms("preprocessing") {
            switch transform.name {
            case let name where Self.loading.contains(name):
                continue
            case "Orientationd":
                preprocessing["orientation"] = try transform.string("axcodes")
            case "Spacingd":
                let mode = try transform.value("mode") as? String ?? "bilinear"
                guard mode == "bilinear" else {
                    throw ModelInferenceError("Spacingd mode \"\(mode)\" is not supported; Metis resamples images bilinearly")
                }
                preprocessing["spacing"] = try transform.sizes("pixdim")
            case "ScaleIntensityRanged":
                intensity = [
                    "transform": "ScaleIntensityRange", "a_min": try transform.number("a_min"), "a_max": try transform.number("a_max"),
                    "b_min": try transform.number("b_min", default: 0), "b_max": try transform.number("b_max", default: 1),
                    "clip": try transform.bool("clip", default: false),
                ]
            case "NormalizeIntensityd":
                for unsupported in ["subtrahend", "divisor"] where !(try transform.value(unsupported) is NSNull?) {
                    throw ModelInferenceError(
                        "NormalizeIntensityd \(unsupported) is not supported; Metis uses the image's own mean and deviation")
                }
                intensity = [
                    "transform": "NormalizeIntensity", "nonzero": try transform.bool("nonzero", default: false),
                    "channel_wise": try transform.bool("channel_wise", default: false),
                ]
            case "CropForegroundd":
                for unsupported in ["select_fn", "channel_indices", "k_divisible"] {
                    let value = try transform.value(unsupported)
                    if value == nil || (unsupported == "k_divisible" && (value as? Int) == 1) { continue }
                    throw ModelInferenceError("CropForegroundd \(unsupported) is not supported; Metis crops to the voxels above 0")
                }
                preprocessing["crop_foreground"] = ["threshold": 0.0, "margin": Int(try transform.number("margin", default: 0))]
            default:
                throw ModelInferenceError(
                    "preprocessing transform \(transform.name) is not one Metis runs (it runs \(Self.preprocessingTransforms.joined(separator: ", ")))"
                )
            }
        }
        guard let intensity else {
            throw ModelInferenceError("the preprocessing has neither ScaleIntensityRanged nor NormalizeIntensityd")
        }
        preprocessing["intensity"] = intensity
        for (key, value, transform) in [
            ("orientation", options.orientation as Any?, "Orientationd"), ("spacing", options.spacing as Any?, "Spacingd"),
        ] where preprocessing[key] == nil {
            guard let value else {
                throw ModelInferenceError(
                    "the bundle's preprocessing has no \(transform): its model read images as its data loader gave them; say which \(key) it was trained at (--\(key))"
                )
            }
            preprocessing[key] = value
            notes.append("\(key) \(value) from the command line: the bundle has no \(transform)")
        }

        // Inference.
        let inferer = try resolver.component("inferer")
        guard inferer.name == "SlidingWindowInferer" else {
            throw ModelInferenceError("inferer \(inferer.name) is not supported; Metis runs SlidingWindowInferer")
        }
        let roi = try inferer.sizes("roi_size").map { Int($0) }
        let inference: [String: Any] = [
            // SlidingWindowInferer's own defaults where the bundle says nothing.
            "roi_size": roi, "sw_batch_size": Int(try inferer.number("sw_batch_size", default: 1)),
            "overlap": try inferer.number("overlap", default: 0.25), "mode": try inferer.value("mode") as? String ?? "constant",
            "sigma_scale": try inferer.number("sigma_scale", default: 0.125),
            "padding_mode": try inferer.value("padding_mode") as? String ?? "constant", "cval": try inferer.number("cval", default: 0),
        ]

        // Post-processing.
        var postprocessing: [String: Any] = [:]
        var activation: String?
        for transform in try resolver.transforms("postprocessing") {
            switch transform.name {
            case let name where Self.saving.contains(name):
                continue
            case "Activationsd":
                if try transform.bool("sigmoid", default: false) { activation = "sigmoid" }
                if try transform.bool("softmax", default: false) { activation = "softmax" }
                guard activation != nil, try transform.value("other") == nil else {
                    throw ModelInferenceError("Activationsd must be sigmoid or softmax for Metis")
                }
            case "Invertd":
                postprocessing["nearest_interp"] = try transform.bool("nearest_interp", default: true)
            case "AsDiscreted":
                if try transform.bool("argmax", default: false) {
                    guard activation != "sigmoid" else { throw ModelInferenceError("AsDiscreted argmax after a sigmoid is not supported") }
                    activation = "softmax"
                } else if let threshold = try transform.value("threshold") as? Double {
                    guard activation == "sigmoid" else {
                        throw ModelInferenceError("AsDiscreted threshold without a sigmoid before it is not supported")
                    }
                    postprocessing["threshold"] = threshold
                } else {
                    throw ModelInferenceError("AsDiscreted must take the argmax or a threshold")
                }
            case "RemoveSmallObjectsd":
                let connectivity = Int(try transform.number("connectivity", default: 1))
                guard connectivity == 3 else {
                    throw ModelInferenceError(
                        "RemoveSmallObjectsd connectivity \(connectivity) is not supported; Metis labels components with 26 neighbours (3)")
                }
                postprocessing["remove_small_objects"] = ["min_size": try transform.number("min_size"), "connectivity": 3]
            case "KeepLargestConnectedComponentd":
                guard try transform.bool("independent", default: true), try transform.value("num_components") as? Int ?? 1 == 1 else {
                    throw ModelInferenceError("KeepLargestConnectedComponentd is supported with independent and one component")
                }
                let connectivity = try transform.value("connectivity")
                guard connectivity == nil || connectivity is NSNull || (connectivity as? Int) == 3 else {
                    throw ModelInferenceError("KeepLargestConnectedComponentd connectivity must be 3 (26 neighbours) for Metis")
                }
                var keep: [String: Any] = ["connectivity": 3]
                if let applied = try transform.value("applied_labels") {
                    keep["applied_labels"] = (applied as? [Int]) ?? (applied as? Int).map { [$0] } ?? []
                }
                postprocessing["keep_largest_connected_component"] = keep
            case "Lambdad" where transform.isLabelMerge:
                notes.append(
                    "Lambdad merging the channels into one label map for saving is left out: Metis keeps each channel as its own label")
            default:
                throw ModelInferenceError(
                    "postprocessing transform \(transform.name) is not one Metis runs (it runs \(Self.postprocessingTransforms.joined(separator: ", ")))"
                )
            }
        }
        let sigmoid = activation == "sigmoid"
        if sigmoid { postprocessing["activation"] = "sigmoid" }

        // Labels from the metadata's channel definitions, the sequences from the user.
        let outputs = parsed.outputChannels
        let definitions =
            (((meta["network_data_format"] as? [String: Any])?["outputs"] as? [String: Any])?["pred"] as? [String: Any])?["channel_def"]
            as? [String: String] ?? [:]
        var labels = [String: String]()
        for channel in 0..<outputs {
            labels["\(channel)"] = definitions["\(channel)"] ?? (channel == 0 && !sigmoid ? "background" : "label \(channel)")
        }
        if definitions.isEmpty { notes.append("no channel_def in configs/metadata.json: labels are numbered") }
        var card: [String: Any] = [
            "name": options.name ?? (meta["name"] as? String).map { $0.lowercased().replacingOccurrences(of: " ", with: "-") }
                ?? "monai-bundle",
            "architecture": architecture, "labels": labels,
            "lesion_labels": options.lesionLabels ?? Array((sigmoid ? 0 : 1)..<outputs),
            "preprocessing": preprocessing, "inference": inference, "postprocessing": postprocessing,
        ]
        if let version = meta["version"] as? String { card["version"] = version }
        if let description = meta["description"] as? String { card["description"] = description }
        if parsed.inputChannels > 1 || options.sequences != nil {
            guard let sequences = options.sequences else {
                throw ModelInferenceError(
                    "the network takes \(parsed.inputChannels) channels: name the MR sequence of each (--sequences, e.g. t1c,t1,t2,flair)")
            }
            card["sequences"] = sequences
        }
        do {
            _ = try ModelCard.load(JSONSerialization.data(withJSONObject: card))
        } catch let error as ModelInferenceError {
            throw ModelInferenceError("the bundle does not make a model card Metis runs: \(error.description)")
        } catch {
            throw ModelInferenceError("the bundle does not make a model card Metis runs: \(error)")
        }
        cardObject = UncheckedSendable(value: card)
        self.notes = notes
    }
}

extension MONAIBundle {
    /// A `_target_` component; each argument is resolved when it is read, so a
    /// transform Metis skips (loading, saving) is never evaluated.
    struct Component {
        var name: String
        var raw: [String: Any]
        var path: String
        var resolver: Resolver

        /// The argument, references resolved; nil when absent.
        func value(_ key: String) throws(ModelInferenceError) -> Any? {
            guard let item = raw[key] else { return nil }
            return try resolver.resolve(item, path: "\(path)#\(key)")
        }

        func resolvedArguments() throws(ModelInferenceError) -> [String: Any] {
            var out = [String: Any]()
            for key in raw.keys { out[key] = try value(key) }
            return out
        }

        func string(_ key: String) throws(ModelInferenceError) -> String {
            guard let value = try value(key) as? String else { throw ModelInferenceError("\(path) (\(name)): \(key) must be a string") }
            return value
        }

        func number(_ key: String, default fallback: Double? = nil) throws(ModelInferenceError) -> Double {
            let found = try value(key)
            if found == nil, let fallback { return fallback }
            guard let value = found as? Double else {
                throw ModelInferenceError("\(path) (\(name)): \(key) must be a number")
            }
            return value
        }

        func bool(_ key: String, default fallback: Bool) throws(ModelInferenceError) -> Bool {
            guard let found = try value(key) else { return fallback }
            guard let value = found as? Bool else { throw ModelInferenceError("\(path) (\(name)): \(key) must be true or false") }
            return value
        }

        /// A number (the same on every axis) or a list of three.
        func sizes(_ key: String) throws(ModelInferenceError) -> [Double] {
            let found = try value(key)
            if let value = found as? Double { return [value, value, value] }
            guard let values = found as? [Double], values.count == 3 else {
                throw ModelInferenceError("\(path) (\(name)): \(key) must be a number or a list of three numbers")
            }
            return values
        }

        /// The BraTS bundle's `Lambdad` that merges the sigmoid channels into one label map before saving:
        /// `lambda x: torch.where(x[[c]] > 0, v, torch.where(…, 0))`.
        var isLabelMerge: Bool {
            guard let function = raw["func"] as? String else { return false }
            let pattern = #"^\$lambda x: (torch\.where\(x\[\[\d+\]\] > 0, \d+, )+0\)+$"#
            return function.range(of: pattern, options: .regularExpression) != nil
        }
    }

    /// MONAI's config references and components, resolved lazily from the root.
    struct Resolver {
        let root: [String: Any]
        static let keywords: Set<String> = ["_target_", "_requires_", "_disabled_", "_desc_", "_mode_"]

        func lookup(_ id: String, depth: Int) throws(ModelInferenceError) -> Any {
            var value: Any = root
            for part in id.replacingOccurrences(of: "::", with: "#").split(separator: "#").map(String.init) {
                if let object = value as? [String: Any], let next = object[part] {
                    value = next
                } else if let array = value as? [Any], let index = Int(part), array.indices.contains(index) {
                    value = array[index]
                } else {
                    throw ModelInferenceError("reference @\(id) names nothing in configs/inference.json")
                }
            }
            return try resolve(value, path: id, depth: depth + 1)
        }

        func resolve(_ value: Any, path: String, depth: Int = 0) throws(ModelInferenceError) -> Any {
            guard depth < 32 else { throw ModelInferenceError("references around \(path) do not end") }
            switch value {
            case let text as String where text.hasPrefix("@"):
                return try lookup(String(text.dropFirst()), depth: depth)
            case let text as String
            where text.hasPrefix("$@") && text.dropFirst(2).allSatisfy({ $0.isLetter || $0.isNumber || "_#:".contains($0) }):
                return try lookup(String(text.dropFirst(2)), depth: depth)
            case let text as String where text.hasPrefix("$"):
                throw ModelInferenceError(
                    "expression \"\(text)\" at \(path) is not supported: Metis reads literal values and @references there")
            case let text as String where text.hasPrefix("%"):
                throw ModelInferenceError("macro \"\(text)\" at \(path) is not supported: put the value in configs/inference.json")
            case let object as [String: Any] where object["_target_"] != nil:
                // A nested component (Invertd's transform, a Compose) is read by its own reader, not here.
                return object
            case let object as [String: Any]:
                var out = [String: Any]()
                for (key, item) in object { out[key] = try resolve(item, path: "\(path)#\(key)", depth: depth) }
                return out
            case let array as [Any]:
                var out = [Any]()
                for (index, item) in array.enumerated() { out.append(try resolve(item, path: "\(path)#\(index)", depth: depth)) }
                return out
            default:
                return value
            }
        }

        /// The component at `id`: its class name (without its module path) and its resolved arguments.
        func component(_ id: String) throws(ModelInferenceError) -> Component {
            guard let object = try lookup(id, depth: 0) as? [String: Any], let target = object["_target_"] as? String else {
                throw ModelInferenceError("\(id) is not a _target_ component")
            }
            return Component(name: Self.className(target), raw: object.filter { !Self.keywords.contains($0.key) }, path: id, resolver: self)
        }

        /// A `_target_`'s class name, without its module path ("monai.networks.nets.SegResNet" → "SegResNet").
        static func className(_ target: String) -> String { String(target.split(separator: ".").last ?? "") }

        /// The transforms of a `Compose` (or a list) at `id`, in order; disabled ones left out.
        func transforms(_ id: String) throws(ModelInferenceError) -> [Component] {
            guard root[id] != nil else { return [] }
            let value = try lookup(id, depth: 0)
            let list: [Any]
            if let object = value as? [String: Any], let target = object["_target_"] as? String {
                guard Self.className(target) == "Compose", let transforms = object["transforms"] as? [Any] else {
                    throw ModelInferenceError("\(id) is a \(target), not a Compose of transforms")
                }
                list = transforms
            } else if let array = value as? [Any] {
                list = array
            } else {
                throw ModelInferenceError("\(id) is not a list or a Compose of transforms")
            }
            var components = [Component]()
            for (index, item) in list.enumerated() {
                guard let object = item as? [String: Any], let target = object["_target_"] as? String else {
                    throw ModelInferenceError("\(id)#transforms#\(index) is not a _target_ component")
                }
                if (object["_disabled_"] as? Bool) == true { continue }
                components.append(
                    Component(
                        name: Self.className(target), raw: object.filter { !Self.keywords.contains($0.key) },
                        path: "\(id)#transforms#\(index)", resolver: self))
            }
            return components
        }
    }
}
