// DICOM parse throughput, Metis against pydicom (dcmread, and
// stop_before_pixels) measured in the same run, over the test fixtures and a
// synthetic 300-slice 512×512 MR series. Needs python3 with pydicom and numpy.
//
//   swift run -c release --package-path Benchmarks dicom-parse [--slices N] [--repeat N]
import DICOM
import BenchmarkResults
import Foundation

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { Int(arguments[$0 + 1]) } ?? fallback
}
let slices = option("--slices", 300)
let repeats = option("--repeat", 3)
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let script = root.appendingPathComponent("Scripts/dicom_series.py").path
let fixtures = root.deletingLastPathComponent().appendingPathComponent("Tests/DICOMTests/Fixtures")
let work = FileManager.default.temporaryDirectory.appendingPathComponent("metis-dicom-bench-\(slices)")

@discardableResult
func python(_ arguments: [String]) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try! process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    precondition(process.terminationStatus == 0, "python3 \(script) \(arguments) failed (pydicom and numpy installed?)")
    return String(decoding: output, as: UTF8.self)
}

if !FileManager.default.fileExists(atPath: work.appendingPathComponent(String(format: "slice-%04d.dcm", slices - 1)).path) {
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    python(["make", work.path, String(slices)])
}

func files(in directory: URL, matching suffix: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .filter { $0.lastPathComponent.hasSuffix(suffix) && !$0.lastPathComponent.hasPrefix("broken") }
        .sorted { $0.path < $1.path }
}

/// Best of `repeats` runs of reading every file; seconds.
func metis(_ paths: [URL], metadataOnly: Bool) throws -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        for path in paths {
            if metadataOnly {
                _ = try DICOMReader.read(contentsOf: path, options: .init(stopBeforePixelData: true))
            } else {
                // A full read holds the whole file in memory, as pydicom's does.
                _ = try DICOMReader.read(try Data(contentsOf: path))
            }
        }
        let elapsed = start.duration(to: .now)
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return best
}

func bytes(of paths: [URL]) -> Double {
    paths.reduce(0) { $0 + Double((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
}

print("DICOM parse throughput, best of \(repeats) runs, \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("| set | read | Metis | pydicom | speed-up |")
print("| --- | --- | --- | --- | --- |")
let sets: [(String, [URL])] = [
    (
        "fixtures (\(try files(in: fixtures, matching: ".dcm").count) files ×100)",
        Array(repeating: try files(in: fixtures, matching: ".dcm"), count: 100).flatMap { $0 }
    ),
    ("MR series (\(slices) × 512×512×16 bit)", try files(in: work, matching: ".dcm")),
]
var results = BenchmarkRun(name: "dicom-parse", settings: ["repeats": String(repeats), "slices": String(slices)])
for (name, paths) in sets {
    let list = FileManager.default.temporaryDirectory.appendingPathComponent("metis-bench-list.txt")
    try paths.map(\.path).joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
    let pydicom = python(["time", list.path, String(repeats)]).split(separator: " ").compactMap {
        Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let megabytes = bytes(of: paths) / 1e6
    for (index, metadataOnly) in [true, false].enumerated() {
        let ours = try metis(paths, metadataOnly: metadataOnly)
        let theirs = pydicom[index]
        let label = metadataOnly ? "metadata only (stop before pixels)" : "full"
        print(
            String(
                format: "| %@ | %@ | %.0f files/s, %.0f MB/s | %.0f files/s, %.0f MB/s | %.1f× |",
                name, label, Double(paths.count) / ours, megabytes / ours, Double(paths.count) / theirs, megabytes / theirs, theirs / ours))
        results.add(
            "\(name), \(label)", unit: "files/s", metis: Double(paths.count) / ours, peer: Double(paths.count) / theirs,
            peerName: "pydicom 3.0.1", higherIsBetter: true)
    }
}
try results.finish()
