import ArgumentParser
import Foundation
import Logging
import Testing

@testable import Launcher
@testable import MetisRPC

@Suite("Configuration")
struct ConfigurationTests {
    @Test("embedded defaults: ./data, sockets in ./data/run, gateway on 127.0.0.1:8080, one worker")
    func defaults() throws {
        let configuration = try MetisConfiguration.load(file: nil, environment: [:])
        #expect(configuration.dataDirectory.path.hasSuffix("/data"))
        #expect(configuration.runDirectory.path == configuration.dataDirectory.appendingPathComponent("run").path)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.inferenceWorkers == 1)
        #expect(configuration.maximumFrameSize == 64 * 1024 * 1024)
        #expect(configuration.maximumUploadSize == 1 << 30)
        #expect(configuration.maximumSeriesSize == 512 << 20)
        #expect(configuration.inferenceFrameSize > configuration.maximumSeriesSize)
        #expect(configuration.gatewayURL == "http://127.0.0.1:8080/")
        #expect(configuration.storageAddress == .unix(path: configuration.runDirectory.appendingPathComponent("storage.sock").path))
    }

    @Test("file, then environment, then flags")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metis-\(UUID()).conf")
        try """
            # Metis test configuration
            data = "/srv/metis data"   # quoted, with a space
            port = 9000
            inference_workers = 3
            log_level = debug
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let fromFile = try MetisConfiguration.load(file: file.path, environment: [:])
        #expect(fromFile.dataDirectory.path == "/srv/metis data")
        #expect(fromFile.port == 9000)
        #expect(fromFile.inferenceWorkers == 3)
        #expect(fromFile.logLevel == .debug)

        let fromEnvironment = try MetisConfiguration.load(file: file.path, environment: ["METIS_PORT": "9100", "METIS_HOST": "0.0.0.0"])
        #expect(fromEnvironment.port == 9100)
        #expect(fromEnvironment.host == "0.0.0.0")
        #expect(fromEnvironment.inferenceWorkers == 3)
        #expect(fromEnvironment.gatewayURL == "http://127.0.0.1:9100/")

        let command = try UpCommand.parse([
            "--config", file.path, "--port", "9200", "--inference-workers", "2", "--data", "/tmp/x", "--max-series-bytes", "2097152",
            "--max-upload-bytes", "4096",
        ])
        let fromFlags = try command.common.configuration(command.gateway.apply)
        #expect(fromFlags.maximumSeriesSize == 2 << 20)
        #expect(fromFlags.maximumUploadSize == 4096)
        // metis up hands both limits to its children.
        let plan = LaunchPlan(configuration: fromFlags)
        #expect(plan.gateway.arguments.contains("--max-upload-bytes") && plan.gateway.arguments.contains("2097152"))
        #expect(plan.services.first { $0.name == "inference-0" }?.arguments.contains("--max-series-bytes") == true)
        #expect(fromFlags.port == 9200)
        #expect(fromFlags.inferenceWorkers == 2)
        #expect(fromFlags.dataDirectory.path == "/tmp/x")
        #expect(fromFlags.logLevel == .debug)
    }

    @Test("bad files and values are refused with the place they come from", arguments: [
        ("port = eighty", "must be an integer"),
        ("colour = blue", "unknown key 'colour'"),
        ("port 8080", "expected 'key = value'"),
        ("data = \"/x", "unterminated string"),
        ("port = 1\nport = 2", "set twice"),
        ("log_level = loud", "log_level must be one of"),
    ])
    func refused(text: String, message: String) throws {
        do {
            _ = try ConfigurationFile.parse(text, name: "metis.conf").reduce(into: MetisConfiguration()) {
                try $0.set($1.key, to: $1.value, source: "metis.conf:\($1.line)")
            }
            Issue.record("accepted: \(text)")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("metis.conf"))
        }
    }

    @Test("values that parse but cannot work fail validation", arguments: [
        ("port", "0"), ("port", "70000"), ("inference_workers", "0"), ("max_frame_bytes", "10"), ("host", ""),
        ("rpc_tls_certificate", "/etc/metis/rpc.pem"), ("rpc_tls_trust", "/etc/metis/site.pem"),
    ])
    func validation(key: String, value: String) throws {
        var configuration = MetisConfiguration()
        try configuration.set(key, to: value, source: "test")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test("a missing configuration file is an error, not the defaults")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try MetisConfiguration.load(file: "/nonexistent/metis.conf", environment: [:]) }
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
