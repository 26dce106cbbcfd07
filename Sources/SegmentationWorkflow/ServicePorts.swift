public import DICOM
public import Foundation
public import MetisProto
public import MetisRPC
public import Segmentation
import SwiftProtobuf

/// The study's series from metis-storage, and the results stored back there:
/// each result is stored with its `SegmentationOrigin`, which storage records
/// on its series, and a new run replaces exactly the series storage recorded
/// so (never an RTSTRUCT or SEG someone else stored, whatever its name).
public struct StorageSegmentationPorts: SegmentationSeriesSource, SegmentationResultStore {
    public let storage: Metis_V1_Storage.Client

    public init(storage: Metis_V1_Storage.Client) {
        self.storage = storage
    }

    public func candidates(study: String) async throws -> [SeriesChoice.Candidate] {
        let response = try await calling {
            try await storage.query(
                .with {
                    $0.level = .series
                    $0.studyInstanceUid = study
                    $0.includeFields = SeriesChoice.Candidate.attributeTags.map(\.jsonKey)
                })
        }
        return try response.matches.map { match in
            // The sequence attributes are read from the DICOM JSON; what identifies the series is typed.
            let attributes = try DICOMJSON.decode(Data(match.dicomJson.utf8))
            return SeriesChoice.Candidate(
                seriesInstanceUID: match.seriesInstanceUid,
                instances: attributes.int(.numberOfSeriesRelatedInstances) ?? 0
            ) { attributes.strings($0) ?? [] }
        }
    }

    public func instances(study: String, series: String) async throws -> [Data] {
        try await calling {
            var instances = [Data]()
            for try await chunk in storage.retrieveInstances(
                .with {
                    $0.studyInstanceUid = study
                    $0.seriesInstanceUid = series
                })
            {
                if chunk.offset == 0 { instances.append(Data(capacity: Int(chunk.totalSize))) }
                instances[instances.count - 1].append(chunk.data)
            }
            return instances
        }
    }

    public func store(_ output: SegmentationOutcome.Output, study: String, source: String, engine: String) async throws -> String {
        _ = try await calling {
            try await storage.storeInstance(
                .with {
                    $0.dicom = output.dicom
                    $0.segmentationOrigin = .with {
                        $0.sourceSeriesInstanceUid = source
                        $0.engine = engine
                    }
                })
        }
        return "/dicom-web/studies/\(study)/series/\(output.seriesInstanceUID)"
    }

    public func previousResults(study: String) async throws -> [String] {
        let response = try await calling {
            try await storage.query(
                .with {
                    $0.level = .series
                    $0.studyInstanceUid = study
                    $0.segmentationResultsOnly = true
                })
        }
        return response.matches.map(\.seriesInstanceUid)
    }

    public func remove(study: String, series: String) async throws {
        _ = try await calling {
            try await storage.deleteSeries(
                .with {
                    $0.studyInstanceUid = study
                    $0.seriesInstanceUid = series
                })
        }
    }

    private func calling<T>(_ body: () async throws -> T) async throws -> T { try await service("metis-storage", body) }
}

/// Runs segmentations on metis-inference workers.
public struct WorkerSegmentationRunner: SegmentationRunner {
    public let inference: Metis_V1_Inference.Client

    /// A job may compute for minutes, and waits for a worker that is (re)starting.
    public static let jobOptions = CallOptions(timeout: .seconds(1800), waitForReady: true)

    public init(inference: Metis_V1_Inference.Client) {
        self.inference = inference
    }

    public func describe() async throws -> EngineOffer {
        let description = try await calling { try await inference.describeEngine(.init(), options: Self.jobOptions) }
        return EngineOffer(
            defaultEngine: description.defaultEngine, modelEngine: description.modelEngine,
            modelChannels: description.modelChannels.map(\.sequences))
    }

    /// Runs the job on a worker; once more if that worker died (on another,
    /// or on the same one once `metis up` has restarted it).
    public func run(
        channels: [SeriesInstances], engine: String, format: SegmentationPipeline.OutputFormat,
        progress: @escaping SegmentationWorkflow.Progress
    ) async throws -> SegmentationOutcome {
        var attempt = 0
        while true {
            attempt += 1
            do {
                var result: Metis_V1_SegmentResult?
                for try await event in inference.segment(
                    .with {
                        $0.instances = channels.flatMap(\.instances)
                        if channels.count > 1 { $0.channelSeries = channels.map(\.seriesInstanceUID) }
                        $0.engine = engine
                        $0.outputFormat = format == .seg ? .seg : .rtstruct
                    }, options: Self.jobOptions)
                {
                    switch event.event {
                    case .result(let value): result = value
                    case .progress(let value): progress(value.stage, value.fraction)
                    case nil: break
                    }
                }
                guard let result else {
                    throw SegmentationWorkflowError.service(
                        "metis-inference", RPCError(code: .internal, message: "the worker ended the job without a result"))
                }
                do {
                    return try SegmentationOutcome(result)
                } catch {
                    throw SegmentationWorkflowError.service(
                        "metis-inference", RPCError(code: .internal, message: "the worker's result: \(error)"))
                }
            } catch let error as RPCError {
                if attempt == 1, !Task.isCancelled, [.unavailable, .cancelled].contains(error.code) { continue }
                throw SegmentationWorkflowError.service("metis-inference", error)
            }
        }
    }

    private func calling<T>(_ body: () async throws -> T) async throws -> T { try await service("metis-inference", body) }
}

/// Runs a call to `name`, its failure becoming the workflow's `.service` error.
private func service<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        throw SegmentationWorkflowError.service(name, error)
    }
}
