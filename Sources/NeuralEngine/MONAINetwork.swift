public import Foundation

/// A network given as MONAI's constructor call: `{"name": "SegResNet",
/// …keyword arguments}` (UNETR when `name` is absent), built from its state dict.
public enum MONAINetwork: Sendable {
    case unetr(UNETR)
    case segResNet(SegResNet)

    /// The architectures Metis runs, by MONAI's class name.
    public static let names = ["UNETR", "SegResNet"]

    /// Builds the network the call names; errors name the argument or key at fault.
    public init(call: Data, state: StateDict) throws(NeuralEngineError) {
        let name: String
        do {
            let object = try JSONSerialization.jsonObject(with: call) as? [String: Any]
            guard let object else { throw NeuralEngineError("the architecture must be a JSON object") }
            name = object["name"] as? String ?? "UNETR"
        } catch let error as NeuralEngineError {
            throw error
        } catch {
            throw NeuralEngineError("the architecture is not JSON: \(error)")
        }
        do {
            switch name {
            case "UNETR":
                self = .unetr(try UNETR(configuration: JSONDecoder().decode(UNETRConfiguration.self, from: call), state: state))
            case "SegResNet":
                self = .segResNet(
                    try SegResNet(configuration: JSONDecoder().decode(SegResNetConfiguration.self, from: call), state: state))
            default:
                throw NeuralEngineError("network \"\(name)\" is not supported; Metis runs \(Self.names.joined(separator: ", "))")
            }
        } catch let error as NeuralEngineError {
            throw error
        } catch {
            throw NeuralEngineError("\(name): \(MONAIArguments.describe(error))")
        }
    }

    public var inputChannels: Int {
        switch self {
        case .unetr(let network): network.configuration.in_channels
        case .segResNet(let network): network.configuration.in_channels
        }
    }

    public var outputChannels: Int {
        switch self {
        case .unetr(let network): network.configuration.out_channels
        case .segResNet(let network):
            network.configuration.use_conv_final ? network.configuration.out_channels : network.configuration.init_filters
        }
    }

    /// The input size the network requires (UNETR's `img_size`); nil when any suitable size goes.
    public var fixedSize: [Int]? {
        switch self {
        case .unetr(let network): network.configuration.img_size
        case .segResNet: nil
        }
    }

    public func forward(_ input: Tensor) throws(NeuralEngineError) -> Tensor {
        switch self {
        case .unetr(let network): try network.forward(input)
        case .segResNet(let network): try network.forward(input)
        }
    }
}
