public import Foundation

/// A network given as MONAI's constructor call: `{"name": "SegResNet",
/// …keyword arguments}` (UNETR when `name` is absent), built from its state dict.
public enum MONAINetwork: Sendable {
    case unetr(UNETR)
    case segResNet(SegResNet)
    case swinUNETR(SwinUNETR)

    /// The architectures Metis runs, by MONAI's class name.
    public static let names = ["UNETR", "SegResNet", "SwinUNETR"]

    /// A constructor call, read and checked but not yet built: what a model card's `architecture` holds.
    public enum Architecture: Sendable, Equatable, Codable {
        case unetr(UNETRConfiguration)
        case segResNet(SegResNetConfiguration)
        case swinUNETR(SwinUNETRConfiguration)

        private struct NameKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: NameKey.self)
            let key = NameKey(stringValue: "name")
            switch try container.decodeIfPresent(String.self, forKey: key) ?? "UNETR" {
            case "UNETR": self = .unetr(try UNETRConfiguration(from: decoder))
            case "SegResNet": self = .segResNet(try SegResNetConfiguration(from: decoder))
            case "SwinUNETR": self = .swinUNETR(try SwinUNETRConfiguration(from: decoder))
            case let name:
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "network \"\(name)\" is not supported; Metis runs \(MONAINetwork.names.joined(separator: ", "))")
            }
        }

        /// MONAI's call with its `name`, every argument written as Metis read it.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: NameKey.self)
            try container.encode(name, forKey: NameKey(stringValue: "name"))
            switch self {
            case .unetr(let configuration): try configuration.encode(to: encoder)
            case .segResNet(let configuration): try configuration.encode(to: encoder)
            case .swinUNETR(let configuration): try configuration.encode(to: encoder)
            }
        }

        /// Reads a call given as JSON; errors name the argument at fault.
        public static func decode(_ call: Data) throws(NeuralEngineError) -> Architecture {
            do {
                return try JSONDecoder().decode(Architecture.self, from: call)
            } catch {
                throw NeuralEngineError(MONAIArguments.describe(error))
            }
        }

        /// MONAI's class name.
        public var name: String {
            switch self {
            case .unetr: "UNETR"
            case .segResNet: "SegResNet"
            case .swinUNETR: "SwinUNETR"
            }
        }

        public var inputChannels: Int {
            switch self {
            case .unetr(let configuration): configuration.in_channels
            case .segResNet(let configuration): configuration.in_channels
            case .swinUNETR(let configuration): configuration.in_channels
            }
        }

        public var outputChannels: Int {
            switch self {
            case .unetr(let configuration): configuration.out_channels
            case .segResNet(let configuration): configuration.use_conv_final ? configuration.out_channels : configuration.init_filters
            case .swinUNETR(let configuration): configuration.out_channels
            }
        }

        /// The input size the network requires (UNETR's `img_size`); nil when any suitable size goes.
        public var fixedSize: [Int]? {
            switch self {
            case .unetr(let configuration): configuration.img_size
            case .segResNet, .swinUNETR: nil
            }
        }

        /// What every input size must be a multiple of: SegResNet halves it once per down level after the first.
        public var sizeMultiple: Int {
            switch self {
            case .unetr: 1
            case .segResNet(let configuration): 1 << (configuration.blocks_down.count - 1)
            case .swinUNETR(let configuration): Int(pow(Double(configuration.patch_size), 5))
            }
        }
    }

    /// Builds the network an architecture describes from its state dict; errors name the key at fault.
    public init(architecture: Architecture, state: StateDict) throws(NeuralEngineError) {
        switch architecture {
        case .unetr(let configuration): self = .unetr(try UNETR(configuration: configuration, state: state))
        case .segResNet(let configuration): self = .segResNet(try SegResNet(configuration: configuration, state: state))
        case .swinUNETR(let configuration): self = .swinUNETR(try SwinUNETR(configuration: configuration, state: state))
        }
    }

    /// Builds the network the call names; errors name the argument or key at fault.
    public init(call: Data, state: StateDict) throws(NeuralEngineError) {
        let architecture = try Architecture.decode(call)
        do {
            try self.init(architecture: architecture, state: state)
        } catch {
            throw NeuralEngineError("\(architecture.name): \(error.description)")
        }
    }

    public var architecture: Architecture {
        switch self {
        case .unetr(let network): .unetr(network.configuration)
        case .segResNet(let network): .segResNet(network.configuration)
        case .swinUNETR(let network): .swinUNETR(network.configuration)
        }
    }

    public var inputChannels: Int { architecture.inputChannels }
    public var outputChannels: Int { architecture.outputChannels }
    public var fixedSize: [Int]? { architecture.fixedSize }

    public func forward(_ input: Tensor) throws(NeuralEngineError) -> Tensor {
        switch self {
        case .unetr(let network): try network.forward(input)
        case .segResNet(let network): try network.forward(input)
        case .swinUNETR(let network): try network.forward(input)
        }
    }
}
