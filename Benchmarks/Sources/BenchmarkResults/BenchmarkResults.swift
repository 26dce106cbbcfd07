import Foundation

/// One run's figures in the results format of `Benchmarks/Scripts/benchresults.py`, for the Swift benchmarks:
/// `--json-result FILE` writes them, `--record` keeps them as the benchmark's last results
/// (`Benchmarks/Results/NAME.json`), `--compare` compares them with those through `Benchmarks/compare`.
public struct BenchmarkRun {
    public let name: String
    public var settings: [String: String]
    private var figures: [[String: Any]] = []

    public init(name: String, settings: [String: String]) {
        self.name = name
        self.settings = settings
    }

    /// A figure of Metis and of the peer measured in the same run (`peer` nil for a figure without one).
    public mutating func add(_ figure: String, unit: String, metis: Double, peer: Double?, peerName: String?, higherIsBetter: Bool) {
        figures.append([
            "name": figure, "unit": unit, "metis": metis, "peer": peer ?? NSNull(), "peer_name": peerName ?? NSNull(),
            "higher_is_better": higherIsBetter,
        ])
    }

    /// Handles `--json-result FILE`, `--record`, `--note TEXT` and `--compare` in `arguments`; exits 1 on a regression.
    public func finish(arguments: [String] = CommandLine.arguments) throws {
        func value(_ flag: String) -> String? {
            arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        var run: [String: Any] = [
            "benchmark": name, "date": ISO8601DateFormatter().string(from: Date()), "machine": Self.machine(), "settings": settings,
            "figures": figures,
        ]
        if let note = value("--note") { run["note"] = note }
        let data = try JSONSerialization.data(withJSONObject: run, options: [.prettyPrinted, .sortedKeys])
        let results = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Results")
        if let file = value("--json-result") { try data.write(to: URL(fileURLWithPath: file)) }
        if arguments.contains("--compare") {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).json")
            try data.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", results.deletingLastPathComponent().appendingPathComponent("compare").path, file.path,
                results.appendingPathComponent("\(name).json").path,
            ]
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { exit(1) }
        }
        if arguments.contains("--record") {
            try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
            try data.write(to: results.appendingPathComponent("\(name).json"))
            FileHandle.standardError.write(Data("recorded Benchmarks/Results/\(name).json\n".utf8))
        }
    }

    /// CPU model, cores, memory, kernel and the OpenBLAS kernel settings: what the figures depend on.
    static func machine() -> [String: Any] {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var system = utsname()
        uname(&system)
        let kernel = withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let environment = ProcessInfo.processInfo.environment
        return [
            "cpu": cpu, "cores": ProcessInfo.processInfo.activeProcessorCount,
            "memory_gib": (Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30) * 10).rounded() / 10, "kernel": kernel,
            "openblas_coretype": environment["OPENBLAS_CORETYPE"] ?? NSNull(),
            "openblas_l2_size": environment["OPENBLAS_L2_SIZE"] ?? NSNull(),
        ]
    }
}
