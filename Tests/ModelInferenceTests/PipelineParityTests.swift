import Foundation
import Imaging
import ModelInference
import NeuralEngine
import Testing

/// The whole model pipeline against MONAI on the committed fixtures
/// (Tests/Fixtures/neural/make_pipeline_fixtures.py): a UNETR on one channel,
/// a SegResNet on two (softmax, and sigmoid with overlapping labels); the
/// prepared channels and the blended logits within 1e-4 of their largest
/// magnitude, the final label map on the DICOM grid identical on at least 99.99 % of voxels.
@Suite struct PipelineParityTests {
    struct Geometry: Decodable {
        var columns: Int
        var rows: Int
        var row_direction: [Double]
        var column_direction: [Double]
        var row_spacing: Double
        var column_spacing: Double
        var slice_positions: [[Double]]
    }

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var card: String
        var geometry: Geometry
        var prepared_shape: [Int]
        var tensors: [String: String]
        var lesion_voxels: Int
        /// Every channel's input, the first being `tensors["input"]`; absent for one channel.
        var channel_inputs: [String]?
        var testDescription: String { name }
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("pipeline")
    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    static func tensor(_ file: String?) throws -> Tensor {
        try NumpyArray.read(Data(contentsOf: directory.appendingPathComponent(try #require(file))))
    }

    @Test("the fixtures are there")
    func fixturesPresent() {
        #expect(
            Self.cases.map(\.name) == [
                "axial-lps", "oblique", "sagittal", "two-channel-softmax", "two-channel-sigmoid", "two-channel-sigmoid-linear",
                "two-channel-largest",
            ])
    }

    @Test("MONAI's pipeline, step by step", arguments: cases)
    func parity(_ fixture: Case) throws {
        let g = fixture.geometry
        func vector(_ v: [Double]) -> SIMD3<Double> { SIMD3(v[0], v[1], v[2]) }
        let geometry = VolumeGeometry(
            columns: g.columns, rows: g.rows, rowDirection: vector(g.row_direction), columnDirection: vector(g.column_direction),
            rowSpacing: g.row_spacing, columnSpacing: g.column_spacing, slicePositions: g.slice_positions.map(vector))
        let input = try Self.tensor(fixture.tensors["input"])
        let volume = Volume(geometry: geometry, voxels: input.values)
        let channels = try (fixture.channel_inputs ?? [fixture.tensors["input"]!]).map { try Self.tensor($0).values }
        let engine = try ModelEngine.load(card: Self.directory.appendingPathComponent(fixture.card))
        let output = try engine.run(volume, channels: channels)

        let prepared = try Self.tensor(fixture.tensors["prepared"])
        #expect([output.prepared.shape.x, output.prepared.shape.y, output.prepared.shape.z] == fixture.prepared_shape)
        let ourPrepared = output.preparedChannels.flatMap(\.values)
        try #require(ourPrepared.count == prepared.count)
        let preparedScale = prepared.values.map(abs).max()!
        let preparedDifference = zip(ourPrepared, prepared.values).map { abs($0 - $1) }.max()!
        #expect(preparedDifference <= 1e-4 * preparedScale, "prepared image: max |Δ| \(preparedDifference), max \(preparedScale)")

        let logits = try Self.tensor(fixture.tensors["logits"])
        let ours = output.logits.flatMap(\.values)
        try #require(ours.count == logits.count)
        let scale = logits.values.map(abs).max()!
        let difference = zip(ours, logits.values).map { abs($0 - $1) }.max()!
        #expect(difference <= 1e-4 * scale, "logits: max |Δ| \(difference), max |logit| \(scale)")

        let mask = try Self.tensor(fixture.tensors["mask"])
        try #require(mask.count == output.labels.count)
        let agreeing = zip(output.labels, mask.values).filter { Float($0) == $1 }.count
        let lesionVoxels = output.labels.filter { $0 != 0 }.count
        #expect(lesionVoxels > 0 && lesionVoxels < output.labels.count, "a fixture whose mask is all one label checks nothing")
        #expect(Double(agreeing) >= 0.9999 * Double(mask.count), "labels agree on \(agreeing) of \(mask.count) voxels")
        if engine.card.activation == .sigmoid {
            #expect(output.labels.contains { $0.nonzeroBitCount >= 2 }, "sigmoid labels that never overlap check no overlap")
        }
    }

    @Test("window starts and the importance map follow MONAI")
    func windowLayout() {
        let inference = SlidingWindowInference(roiSize: SIMD3(96, 96, 96), overlap: 0.5, gaussian: true)
        // dense_patch_slices for 240 samples, roi 96, interval 48: 0, 48, 96, 144 (the last one pushed back from 144).
        #expect(inference.starts(size: 240, axis: 0) == [0, 48, 96, 144])
        #expect(inference.starts(size: 155, axis: 0) == [0, 48, 59])
        #expect(inference.starts(size: 96, axis: 0) == [0])
        let map = inference.importanceMap
        #expect(map.count == 96 * 96 * 96)
        // Even size: the four central samples share the peak, exp(-0.25 / (2 · 12²)) per axis.
        let peak = expf(-0.25 / 288)
        #expect(abs(map.max()! - peak * peak * peak) < 1e-6)
        // The corners fall far below the 1e-3 floor.
        #expect(map[0] == 1e-3)
    }

    @Test("a model card that does not fit is refused with its reason")
    func badCards() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("axial-lps.card.json"))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var inference = try #require(object["inference"] as? [String: Any])
        inference["roi_size"] = [48, 48, 48]
        object["inference"] = inference
        let error = #expect(throws: ModelInferenceError.self) { try ModelCard.load(JSONSerialization.data(withJSONObject: object)) }
        #expect(error?.description.contains("img_size") == true)
        object["inference"] = (try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))["inference"]
        var preprocessing = try #require(object["preprocessing"] as? [String: Any])
        preprocessing["intensity"] = ["transform": "HistogramNormalize"]
        object["preprocessing"] = preprocessing
        let intensityError = #expect(throws: ModelInferenceError.self) {
            try ModelCard.load(JSONSerialization.data(withJSONObject: object))
        }
        #expect(intensityError?.description.contains("HistogramNormalize") == true)
    }
}
