import Foundation
import TestSupport
import Testing

/// `Benchmarks/compare`: a run against the last results kept next to the benchmarks.
@Suite("Benchmark results")
struct BenchmarkResultsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func result(cpu: String, figures: [(name: String, metis: Double, peer: Double?, higherIsBetter: Bool)]) -> [String: Any] {
        [
            "benchmark": "example", "date": "2026-12-07T00:00:00+00:00", "settings": ["runs": 3],
            "machine": ["cpu": cpu, "cores": 2],
            "figures": figures.map {
                [
                    "name": $0.name, "unit": "ms", "metis": $0.metis, "peer": $0.peer ?? NSNull(), "peer_name": "Peer",
                    "higher_is_better": $0.higherIsBetter,
                ]
            },
        ]
    }

    func compare(_ run: [String: Any], _ last: [String: Any]) async throws -> ToolProcess.Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runFile = directory.appendingPathComponent("run.json"), lastFile = directory.appendingPathComponent("last.json")
        try JSONSerialization.data(withJSONObject: run).write(to: runFile)
        try JSONSerialization.data(withJSONObject: last).write(to: lastFile)
        return try await ToolProcess.run(
            "python3", [Self.root.appendingPathComponent("Benchmarks/compare").path, runFile.path, lastFile.path])
    }

    @Test("a ratio to the peer that fell is a regression on any CPU; absolute figures are compared only on the same CPU model")
    func regressions() async throws {
        let last = Self.result(cpu: "AMD EPYC", figures: [("latency", 2, 4, false), ("whole job", 3, nil, false)])
        let same = try await compare(
            Self.result(cpu: "AMD EPYC", figures: [("latency", 2.1, 4, false), ("whole job", 2.5, nil, false)]), last)
        #expect(same.status == 0, "\(same.text)")
        #expect(same.text.contains("Metis 3 → 2.5 ms"), "\(same.text)")

        let slower = try await compare(
            Self.result(cpu: "Intel Xeon", figures: [("latency", 3, 4, false), ("whole job", 9, nil, false)]), last)
        #expect(slower.status == 1, "\(slower.text)")
        #expect(slower.text.contains("REGRESSION"))
        #expect(slower.text.contains("another CPU model"))
        #expect(!slower.text.contains("Metis 3 → 9"), "an absolute figure compared across CPU models: \(slower.text)")
    }

    @Test("the kept results name their machine and date", arguments: ["segmentation_bench", "codec_bench", "dimse_vs_orthanc"])
    func kept(name: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Benchmarks/Results/\(name).json"))
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let machine = try #require(result["machine"] as? [String: Any])
        #expect((machine["cpu"] as? String)?.isEmpty == false)
        #expect(result["date"] is String)
        #expect((result["figures"] as? [Any])?.isEmpty == false)
    }
}
