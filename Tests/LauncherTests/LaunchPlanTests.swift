import ArgumentParser
import Foundation
import Gateway
import Logging
import MetisProcess
import Testing

@testable import Launcher

@Suite("metis up's flags")
struct UpFlagsTests {
    @Test("flags over the file, handed to every child")
    func flagsReachChildren() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metis-\(UUID()).conf")
        try """
        data = "/srv/metis data"
        port = 9000
        inference_workers = 3
        log_level = debug
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let command = try UpCommand.parse([
            "--config", file.path, "--port", "9200", "--inference-workers", "2", "--data", "/tmp/x", "--max-series-bytes", "2097152",
            "--max-upload-bytes", "4096", "--dicom-validation", "strict",
        ])
        let fromFlags = try command.common.configuration(command.gateway.apply)
        #expect(fromFlags.maximumSeriesSize == 2 << 20)
        #expect(fromFlags.maximumUploadSize == 4096)
        // metis up hands both limits to its children.
        let plan = LaunchPlan(configuration: fromFlags)
        #expect(plan.gateway.arguments.contains("--max-upload-bytes") && plan.gateway.arguments.contains("2097152"))
        #expect(plan.services.first { $0.name == "inference-0" }?.arguments.contains("--max-series-bytes") == true)
        #expect(fromFlags.strictDICOMValidation)
        let storage = try #require(plan.services.first { $0.name == "storage" }?.arguments)
        #expect(storage.firstIndex(of: "--dicom-validation").map { storage[$0 + 1] } == "strict")
        #expect(fromFlags.port == 9200)
        #expect(fromFlags.inferenceWorkers == 2)
        #expect(fromFlags.dataDirectory.path == "/tmp/x")
        #expect(fromFlags.logLevel == .debug)
    }
}

@Suite("Launch plan")
struct LaunchPlanTests {
    @Test("one process per service and per inference worker, each with its socket")
    func plan() throws {
        var configuration = MetisConfiguration()
        configuration.dataDirectory = URL(fileURLWithPath: "/var/lib/metis")
        configuration.inferenceWorkers = 3
        configuration.port = 8443
        let plan = LaunchPlan(configuration: configuration)
        #expect(plan.services.map(\.name) == ["storage", "tracking", "inference-0", "inference-1", "inference-2"])
        let worker = try #require(plan.services.last)
        #expect(worker.arguments.starts(with: ["inference"]))
        #expect(worker.arguments.contains("unix:/var/lib/metis/run/inference-2.sock"))
        #expect(plan.gateway.arguments.filter { $0 == "--inference" }.count == 3)
        #expect(plan.gateway.arguments.contains("8443"))
        // Every subcommand the plan runs parses.
        for spec in plan.services + [plan.gateway] {
            _ = try MetisCommand.parseAsRoot(spec.arguments)
        }
    }

    @Test("workers get the model card as an absolute path and a share of the cores; model and threads come from the file")
    func modelAndThreads() throws {
        var configuration = MetisConfiguration()
        configuration.inferenceWorkers = 2
        configuration.modelCard = "Weights/custom.json"
        let plan = LaunchPlan(configuration: configuration)
        let worker = try #require(plan.services.last)
        let model = try #require(worker.arguments.firstIndex(of: "--model"))
        #expect(worker.arguments[model + 1] == FileManager.default.currentDirectoryPath + "/Weights/custom.json")
        let threads = try #require(worker.arguments.firstIndex(of: "--threads"))
        #expect(worker.arguments[threads + 1] == String(max(1, ProcessInfo.processInfo.activeProcessorCount / 2)))
        _ = try MetisCommand.parseAsRoot(worker.arguments)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-conf-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("metis.conf")
        try "model = none\ninference_threads = 3\n".write(to: file, atomically: true, encoding: .utf8)
        let loaded = try MetisConfiguration.load(file: file.path, environment: [:])
        #expect(loaded.modelCard == "none")
        #expect(loaded.inferenceThreads == 3)
        let none = LaunchPlan(configuration: loaded).services.last!.arguments
        #expect(none.contains("none") && none.contains("3"))
        try "inference_threads = 0\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try MetisConfiguration.load(file: file.path, environment: [:]).validate() }
    }
}
