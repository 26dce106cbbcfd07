import CMalloc
import DICOM
import Foundation
import Imaging
import Logging
import MetisProto
import MetisRPC
import ModelInference
import Segmentation
import SegmentationWorkflow
import SwiftProtobuf
import Synchronization

/// The `metis.v1.Inference` methods.
final class InferenceRPCService: Metis_V1_Inference.ServiceProtocol {
    let blas: BLASRuntime
    let catalog: EngineCatalog
    let softwareVersion: String
    private let jobs = Atomic<Int>(0)

    init(blas: BLASRuntime, catalog: EngineCatalog, softwareVersion: String) {
        self.blas = blas
        self.catalog = catalog
        self.softwareVersion = softwareVersion
    }

    func describeEngine(
        request: Metis_V1_DescribeEngineRequest,
        context: ServerContext
    ) async throws -> Metis_V1_EngineDescription {
        var description = Metis_V1_EngineDescription()
        description.engines = catalog.engines.keys.sorted()
        description.defaultEngine = catalog.defaultEngine
        description.defaultEngineReason = catalog.defaultChoice.reason
        description.modelSequences = catalog.model?.sequences.map(\.rawValue) ?? []
        description.modelEngine = catalog.model?.name ?? ""
        description.modelChannels = (catalog.model?.channels ?? []).map { channel in .with { $0.sequences = channel.map(\.rawValue) } }
        description.modelName = catalog.model?.card.name ?? ""
        description.modelVersion = catalog.model?.version ?? ""
        description.threads = UInt32(blas.threads)
        description.jobsInFlight = UInt32(jobs.load(ordering: .relaxed))
        return description
    }

    func segment(
        request: Metis_V1_SegmentRequest,
        response: ResponseStreamWriter<Metis_V1_SegmentEvent>,
        context: ServerContext
    ) async throws {
        let name = request.engine.isEmpty ? catalog.defaultEngine : request.engine
        guard let engine = catalog.engine(named: name) else {
            throw RPCError(
                code: .invalidArgument,
                message: "unknown engine '\(name)'; this worker runs \(catalog.engines.keys.sorted().joined(separator: ", "))")
        }
        guard !request.instances.isEmpty else { throw RPCError(code: .invalidArgument, message: "no instance to segment") }
        var files = [DICOMFile]()
        for (index, bytes) in request.instances.enumerated() {
            do {
                files.append(try DICOMReader.read(bytes))
            } catch {
                throw RPCError(code: .invalidArgument, message: "instance \(index + 1) is not readable DICOM: \(error)")
            }
        }
        let series = try Self.channels(files, engine: engine, order: request.channelSeries)
        jobs.add(1, ordering: .relaxed)
        defer { jobs.subtract(1, ordering: .relaxed) }
        let pipeline = SegmentationPipeline(engine: engine, softwareVersion: softwareVersion)
        let format: SegmentationPipeline.OutputFormat = request.outputFormat == .seg ? .seg : .rtstruct
        let (events, continuation) = AsyncStream<SegmentationPipeline.ProgressEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        // The pipeline computes for seconds: on a thread of its own, never on the two cooperative threads.
        let job = Task.detached { () throws -> SegmentationPipeline.Result in
            try await runOnThread {
                defer {
                    continuation.finish()
                    // The engine's activations stayed in the heap for reuse during the job; an idle worker gives them back.
                    malloc_trim(0)
                }
                return try pipeline.run(channels: series, format: format) { stage, fraction in
                    continuation.yield(.init(stage: stage, fraction: fraction))
                }
            }
        }
        for await event in events {
            try await response.write(
                .with {
                    $0.progress = .with {
                        $0.stage = event.stage
                        $0.fraction = event.fraction
                    }
                })
        }
        let result: SegmentationPipeline.Result
        do {
            result = try await job.value
        } catch let error as ImagingError {
            throw RPCError(code: .invalidArgument, message: error.message)
        } catch let error as ModelInferenceError {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
        context.logger.info(
            "segmented",
            metadata: [
                "dicom.series_instance_uid": "\(result.seriesInstanceUID)", "lesions": "\(result.lesions.count)", "engine": "\(name)",
            ])
        try await response.write(.with { $0.result = Metis_V1_SegmentResult(SegmentationOutcome(result, source: series[0][0].dataset)) })
    }
}

extension InferenceRPCService {
    /// The request's files grouped into the engine's input channels: by
    /// SeriesInstanceUID in `order`, or all as one series when `order` is empty.
    static func channels(_ files: [DICOMFile], engine: any SegmentationEngine, order: [String]) throws(RPCError) -> [[DICOMFile]] {
        let wanted = engine.channels.count
        guard !order.isEmpty else {
            guard wanted == 1 else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "the \(engine.name) engine reads \(wanted) series, one per input channel: name them in channel_series")
            }
            return [files]
        }
        guard order.count == wanted, Set(order).count == order.count else {
            throw RPCError(
                code: .invalidArgument,
                message: "the \(engine.name) engine reads \(wanted) distinct series, channel_series names \(order.count): \(order)")
        }
        var groups = [String: [DICOMFile]]()
        for file in files { groups[file.dataset.string(.seriesInstanceUID) ?? "", default: []].append(file) }
        if let stray = groups.keys.sorted().first(where: { !order.contains($0) }) {
            throw RPCError(code: .invalidArgument, message: "instances of series '\(stray)', which channel_series does not name")
        }
        return try order.map { uid throws(RPCError) in
            guard let group = groups[uid] else {
                throw RPCError(code: .invalidArgument, message: "no instance of series \(uid), named in channel_series")
            }
            return group
        }
    }
}

/// Runs blocking work on a new thread and awaits its result.
func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
