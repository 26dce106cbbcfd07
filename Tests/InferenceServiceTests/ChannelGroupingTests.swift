import DICOM
import Foundation
import MetisRPC
import ModelInference
import Segmentation
import TestSupport
import Testing

@testable import InferenceService

/// How a worker sorts a request's instances into a model's input channels (`channel_series`).
@Suite("Instances into input channels")
struct ChannelGroupingTests {
    static let card = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("IntegrationTests/Fixtures/two-sequence/two-sequence.json")

    static func files(series: String, slices: Int = 3) throws -> [DICOMFile] {
        var phantom = BrainPhantom()
        phantom.series = series
        phantom.columns = 8
        phantom.rows = 8
        phantom.sliceOffsets = (0..<slices).map { Double($0) * 2 }
        return try phantom.instances().map { try DICOMReader.read($0) }
    }

    static func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test("instances are grouped by series in channel order; stray, missing or repeated series are refused by name")
    func grouping() throws {
        let engine = try ModelEngine.load(card: Self.card)
        let t1c = try Self.files(series: "2.25.1.1"), flair = try Self.files(series: "2.25.1.2", slices: 4)
        let grouped = try InferenceRPCService.channels(flair + t1c, engine: engine, order: ["2.25.1.1", "2.25.1.2"])
        #expect(grouped.map(\.count) == [3, 4])
        #expect(grouped[1].allSatisfy { $0.dataset.string(.seriesInstanceUID) == "2.25.1.2" })
        #expect(
            Self.refusal { _ = try InferenceRPCService.channels(t1c, engine: engine, order: []) }.contains("name them in channel_series"))
        #expect(
            Self.refusal { _ = try InferenceRPCService.channels(t1c + flair, engine: engine, order: ["2.25.1.1"]) }
                .contains("reads 2 distinct series"))
        #expect(
            Self.refusal { _ = try InferenceRPCService.channels(t1c + flair, engine: engine, order: ["2.25.1.1", "2.25.1.1"]) }
                .contains("reads 2 distinct series"))
        #expect(
            Self.refusal { _ = try InferenceRPCService.channels(t1c, engine: engine, order: ["2.25.1.1", "2.25.1.2"]) }
                .contains("no instance of series 2.25.1.2"))
        let stray = try Self.files(series: "2.25.1.9")
        #expect(
            Self.refusal { _ = try InferenceRPCService.channels(t1c + flair + stray, engine: engine, order: ["2.25.1.1", "2.25.1.2"]) }
                .contains("instances of series '2.25.1.9'"))
        // One-series engines take the instances as they come.
        #expect(try InferenceRPCService.channels(t1c, engine: ClassicalEngine(), order: []).map(\.count) == [3])
    }
}
