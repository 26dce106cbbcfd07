import CMalloc
import DICOM
import Foundation
import Imaging
import Logging
import MetisProto
import MetisRPC
import ModelInference
import Segmentation
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
                code: .invalidArgument, message: "unknown engine '\(name)'; this worker runs \(catalog.engines.keys.sorted().joined(separator: ", "))")
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
        jobs.add(1, ordering: .relaxed)
        defer { jobs.subtract(1, ordering: .relaxed) }
        let pipeline = SegmentationPipeline(engine: engine, softwareVersion: softwareVersion)
        let format: SegmentationPipeline.OutputFormat = request.outputFormat == .seg ? .seg : .rtstruct
        let series = files
        let (events, continuation) = AsyncStream<SegmentationPipeline.ProgressEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        // The pipeline computes for seconds: on a thread of its own, never on the two cooperative threads.
        let job = Task.detached { () throws -> SegmentationPipeline.Result in
            try await runOnThread {
                defer {
                    continuation.finish()
                    // The engine's activations stayed in the heap for reuse during the job; an idle worker gives them back.
                    malloc_trim(0)
                }
                return try pipeline.run(series, format: format) { stage, fraction in continuation.yield(.init(stage: stage, fraction: fraction)) }
            }
        }
        for await event in events {
            try await response.write(.with {
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
            metadata: ["dicom.series_instance_uid": "\(result.seriesInstanceUID)", "lesions": "\(result.lesions.count)", "engine": "\(name)"])
        try await response.write(.with { $0.result = Self.message(result, source: series[0].dataset) })
    }

    static func message(_ result: SegmentationPipeline.Result, source: Dataset) -> Metis_V1_SegmentResult {
        .with {
            if let head = result.headCentroid { $0.headCentroidMm = [head.x, head.y, head.z] }
            $0.patientID = source.string(.patientID) ?? ""
            $0.patientName = source.string(.patientName) ?? ""
            $0.patientBirthDate = source.string(Tag(0x0010, 0x0030)) ?? ""
            $0.patientSex = source.string(Tag(0x0010, 0x0040)) ?? ""
            $0.studyDate = source.string(Tag(0x0008, 0x0020)) ?? ""
            $0.studyInstanceUid = result.studyInstanceUID
            $0.seriesInstanceUid = result.seriesInstanceUID
            $0.engine = result.engine
            $0.engineVersion = result.engineVersion
            $0.notice = result.notice
            $0.intracranialVolumeMm3 = result.intracranialVolume
            $0.rejected = result.rejected.map { rejection in
                .with {
                    $0.reason = rejection.code
                    $0.explanation = rejection.explanation
                    $0.volumeMm3 = rejection.volume
                    $0.voxelCount = UInt32(rejection.voxelCount)
                    $0.centroid = [rejection.centroid.x, rejection.centroid.y, rejection.centroid.z]
                }
            }
            $0.output = result.output ?? Data()
            $0.outputFormat = result.outputFormat == .seg ? .seg : .rtstruct
            $0.outputSopInstanceUid = result.outputSOPInstanceUID ?? ""
            $0.outputSeriesInstanceUid = result.outputSeriesInstanceUID ?? ""
            $0.slices = UInt32(result.slices)
            $0.sliceSpacingMm = result.sliceSpacing
            $0.timings = result.timings.map { timing in .with { $0.stage = timing.stage; $0.seconds = timing.seconds } }
            $0.lesions = result.lesions.map { lesion in
                let m = lesion.measurement
                return .with {
                    $0.number = UInt32(lesion.number)
                    $0.name = lesion.name
                    $0.color = [UInt32(lesion.color.red), UInt32(lesion.color.green), UInt32(lesion.color.blue)]
                    $0.volumeMm3 = m.volume
                    $0.voxelCount = UInt32(m.voxelCount)
                    $0.longestDiameterMm = m.longestDiameter
                    $0.longestAxialDiameterMm = m.longestAxialDiameter
                    $0.perpendicularDiameterMm = m.perpendicularDiameter
                    $0.axialDiameterSlice = UInt32(m.axialDiameterSlice)
                    $0.centroid = [m.centroid.x, m.centroid.y, m.centroid.z]
                    $0.firstSlice = UInt32(m.firstSlice)
                    $0.lastSlice = UInt32(m.lastSlice)
                    $0.meanIntensity = m.meanIntensity
                }
            }
        }
    }
}

/// Runs blocking work on a new thread and awaits its result.
func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
