public import ArgumentParser
import CBLAS
import Foundation
import NeuralEngine

/// `metis model run`: the bare network on a tensor, for checks from outside.
public struct ModelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Run the neural network on its own.", subcommands: [ModelRunCommand.self])

    public init() {}
}

/// `metis model run --weights W.safetensors --config C.json --input X.npy --output Y.npy`.
public struct ModelRunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run UNETR on a .npy tensor (NCDHW float32) and write its logits; --repeat N prints the median forward time.")

    @Option(help: "Weights (.safetensors, MONAI key names).") var weights: String
    @Option(help: "A model card (with \"architecture\") or a bare JSON object of UNETR constructor arguments.") var config: String
    @Option(help: "Input tensor (.npy, float32, [N, C, X, Y, Z]).") var input: String
    @Option(help: "Where to write the logits (.npy).") var output: String
    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
    @Option(help: "Forward passes to time after one warm-up; prints \"median S s\".") var `repeat`: Int = 0

    public init() {}

    public func run() async throws {
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive") }
            openblas_set_num_threads(Int32(threads))
        }
        let configuration = try Self.configuration(from: Data(contentsOf: URL(fileURLWithPath: config)))
        let (state, _) = try SafeTensors.read(Data(contentsOf: URL(fileURLWithPath: weights), options: .alwaysMapped))
        let network = try UNETR(configuration: configuration, state: state)
        let tensor = try NumpyArray.read(Data(contentsOf: URL(fileURLWithPath: input)))
        var logits = try network.forward(tensor)
        if `repeat` > 0 {
            var times = [Double]()
            for _ in 0..<`repeat` {
                let start = ContinuousClock.now
                logits = try network.forward(tensor)
                let elapsed = start.duration(to: .now)
                times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            print(String(format: "median %.3f s", times.sorted()[times.count / 2]))
        }
        try NumpyArray.write(logits).write(to: URL(fileURLWithPath: output), options: .atomic)
    }

    /// A model card's `architecture`, or the object itself.
    static func configuration(from data: Data) throws -> UNETRConfiguration {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("--config must be a JSON object")
        }
        let architecture = (object["architecture"] as? [String: Any]) ?? object
        do {
            return try JSONDecoder().decode(UNETRConfiguration.self, from: JSONSerialization.data(withJSONObject: architecture))
        } catch {
            throw ValidationError("--config does not describe a UNETR (MONAI constructor arguments): \(error)")
        }
    }
}
