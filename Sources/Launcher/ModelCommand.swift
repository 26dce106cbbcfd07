public import ArgumentParser
import CBLAS
import Foundation
import InferenceService
import MetisProcess
import Imaging
import ModelInference
import NeuralEngine

/// `metis model run`: the bare network on a tensor, for checks from outside.
public struct ModelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Run a MONAI network on its own, or import a MONAI bundle.",
        subcommands: [ModelRunCommand.self, ModelImportCommand.self])

    public init() {}
}

/// `metis model run --weights W.safetensors --config C.json --input X.npy --output Y.npy`.
public struct ModelRunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: """
            Run a MONAI network (UNETR, SegResNet, SwinUNETR) on a .npy tensor (NCDHW float32) and write its logits; --repeat N prints the median forward time. \
            With --sliding-window the input may be any size: MONAI's sliding_window_inference runs over it.
            """)

    @Option(help: "Weights (.safetensors, MONAI key names).") var weights: String
    @Option(
        help:
            "A model card (with \"architecture\") or a bare JSON object of MONAI constructor arguments, with \"name\" (UNETR when absent).")
    var config: String
    @Option(help: "Input tensor (.npy, float32, [N, C, X, Y, Z]).") var input: String
    @Option(help: "Where to write the logits (.npy).") var output: String
    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
    @Option(help: "Forward passes to time after one warm-up; prints \"median S s\".") var `repeat`: Int = 0
    @Flag(
        help:
            "Sliding-window inference over an input of any size (roi = img_size or the card's roi_size; the card's blending mode, Gaussian without one)."
    )
    var slidingWindow = false
    @Option(help: "Window overlap for --sliding-window (default: the model card's, else 0.5).") var overlap: Double?

    public init() {}

    public func run() async throws {
        BLASCoreReexec.ensureCoreType()
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive") }
            openblas_set_num_threads(Int32(threads))
        }
        let configData = try Data(contentsOf: URL(fileURLWithPath: config))
        guard let card = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw ValidationError("--config must be a JSON object")
        }
        // A model card's `architecture`, or the object itself: MONAI's constructor call.
        let call = try JSONSerialization.data(withJSONObject: (card["architecture"] as? [String: Any]) ?? card)
        let (state, _) = try SafeTensors.read(contentsOf: URL(fileURLWithPath: weights))
        let network: MONAINetwork
        do {
            network = try MONAINetwork(call: call, state: state)
        } catch {
            throw ValidationError("--config and --weights do not make a network Metis runs: \(error)")
        }
        // After loading: the weights' temporary read buffers go back to the system rather than stay in the heap.
        ProcessRunner.keepLargeBuffersForReuse()
        let tensor = try NumpyArray.read(Data(contentsOf: URL(fileURLWithPath: input)))
        if slidingWindow {
            // The card's sliding-window settings, read as they stand (any architecture's card).
            let inference = card["inference"] as? [String: Any]
            guard let roi = network.fixedSize ?? (inference?["roi_size"] as? [Int]), roi.count == 3 else {
                throw ValidationError("--sliding-window needs the window size: a model card with inference.roi_size")
            }
            try Self.slidingWindow(
                network, roi: roi, consume tensor, overlap: overlap ?? (inference?["overlap"] as? Double) ?? 0.5,
                sigmaScale: (inference?["sigma_scale"] as? Double) ?? 0.125,
                gaussian: (inference?["mode"] as? String ?? "gaussian") == "gaussian",
                output: URL(fileURLWithPath: output))
            return
        }
        var logits = try network.forward(tensor)
        if `repeat` > 0 {
            var times = [Double]()
            for _ in 0..<`repeat` {
                let start = ContinuousClock.now
                logits = try network.forward(tensor)
                times.append(Self.seconds(start.duration(to: .now)))
            }
            print(String(format: "median %.3f s", times.sorted()[times.count / 2]))
        }
        try NumpyArray.write(logits).write(to: URL(fileURLWithPath: output), options: .atomic)
    }

    /// Writes the logits [1, K, X, Y, Z] of an input [1, C, X, Y, Z] of any
    /// size to `output` as a `.npy`, a slab at a time; prints the wall time.
    static func slidingWindow(
        _ network: MONAINetwork, roi: [Int], _ tensor: consuming Tensor, overlap: Double, sigmaScale: Double, gaussian: Bool, output: URL
    ) throws {
        guard tensor.shape.count == 5, tensor.shape[0] == 1, tensor.shape[1] == network.inputChannels else {
            throw ValidationError(
                "--sliding-window takes one volume of \(network.inputChannels) channel(s) [1, \(network.inputChannels), X, Y, Z], got \(tensor.shape)"
            )
        }
        let (x, y, z) = (tensor.shape[2], tensor.shape[3], tensor.shape[4]), volume = x * y * z
        // NCDHW (last axis fastest) → one grid per channel whose axis 0 varies fastest.
        let coordinates = [x, y, z].map { n in (0..<n).map(Double.init) }
        let grids = (0..<tensor.shape[1]).map { channel in
            var values = [Float](repeating: 0, count: volume)
            let base = channel * volume
            for i in 0..<x { for j in 0..<y { for k in 0..<z { values[(k * y + j) * x + i] = tensor.values[base + (i * y + j) * z + k] } } }
            return Grid(shape: SIMD3(x, y, z), values: values, coordinates: coordinates)
        }
        _ = consume tensor
        let inference = SlidingWindowInference(
            roiSize: SIMD3(roi[0], roi[1], roi[2]), overlap: overlap, gaussian: gaussian, sigmaScale: sigmaScale)
        let start = ContinuousClock.now
        let channels = try inference.run(channels: consume grids, outputChannels: network.outputChannels) { window in
            try network.forward(window)
        }
        print(String(format: "sliding window %.3f s", seconds(start.duration(to: .now))))
        // Straight from the blended grids into the file (C order: channel, x, y, z), never a whole copy in memory.
        let temporary = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(getpid()).partial")
        guard
            FileManager.default.createFile(atPath: temporary.path, contents: Data(NumpyArray.header(shape: [1, channels.count, x, y, z]))),
            let file = FileHandle(forWritingAtPath: temporary.path)
        else { throw ValidationError("cannot write \(output.path)") }
        try file.seekToEnd()
        var slab = [Float](repeating: 0, count: y * z)
        for channel in channels {
            for i in 0..<x {
                channel.values.withUnsafeBufferPointer { values in
                    for j in 0..<y { for k in 0..<z { slab[j * z + k] = values[(k * y + j) * x + i] } }
                }
                try slab.withUnsafeBytes { try file.write(contentsOf: $0) }
            }
        }
        try file.close()
        guard rename(temporary.path, output.path) == 0 else {
            throw ValidationError("cannot write \(output.path): \(String(cString: strerror(errno)))")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
