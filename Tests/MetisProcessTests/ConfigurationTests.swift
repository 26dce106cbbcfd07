import ArgumentParser
import Foundation
import Logging
import Testing

@testable import MetisProcess
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

        let options = try CommonOptions.parse(["--config", file.path, "--data", "/tmp/x", "--max-series-bytes", "2097152"])
        let fromFlags = try options.configuration { $0.port = 9200 }
        #expect(fromFlags.maximumSeriesSize == 2 << 20)
        #expect(fromFlags.inferenceWorkers == 3)
        #expect(fromFlags.dataDirectory.path == "/tmp/x")
        #expect(fromFlags.logLevel == .debug)
        #expect(fromFlags.port == 9200)
    }

    @Test(
        "bad files and values are refused with the place they come from",
        arguments: [
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

    @Test(
        "values that parse but cannot work fail validation",
        arguments: [
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
