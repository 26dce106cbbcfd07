import ArgumentParser
import Foundation
import Logging

/// Options every Metis command takes; flags override file and environment.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Configuration file (key = value lines).")
    var configFile: String?

    @Option(name: .customLong("data"), help: "Data directory (default ./data).")
    var dataDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(name: .customLong("max-frame-bytes"), help: "Largest RPC frame accepted (default 64 MiB).")
    var maximumFrameSize: Int?

    @Option(name: .customLong("max-series-bytes"), help: "Largest series a segmentation job sends to a worker (default 512 MiB).")
    var maximumSeriesSize: Int?

    @Option(help: "PEM certificate chain this process presents on RPC over TCP (mutual TLS; with --rpc-tls-key and --rpc-tls-trust).")
    var rpcTLSCertificate: String?
    @Option(help: "PEM private key of --rpc-tls-certificate.") var rpcTLSKey: String?
    @Option(help: "PEM certificates (a CA, or the shared self-signed certificate) an RPC peer must chain to.") var rpcTLSTrust: String?

    /// Defaults ← file ← environment ← these flags.
    func configuration(_ apply: (inout MetisConfiguration) throws -> Void = { _ in }) throws -> MetisConfiguration {
        var configuration = try MetisConfiguration.load(file: configFile, environment: ProcessInfo.processInfo.environment)
        if let dataDirectory { configuration.dataDirectory = URL(fileURLWithPath: dataDirectory, isDirectory: true) }
        if let logLevel { try configuration.set("log_level", to: logLevel, source: "--log-level") }
        if let maximumFrameSize { configuration.maximumFrameSize = maximumFrameSize }
        if let maximumSeriesSize { configuration.maximumSeriesSize = maximumSeriesSize }
        if let rpcTLSCertificate { configuration.rpcTLSCertificate = rpcTLSCertificate }
        if let rpcTLSKey { configuration.rpcTLSKey = rpcTLSKey }
        if let rpcTLSTrust { configuration.rpcTLSTrust = rpcTLSTrust }
        try apply(&configuration)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }
}

/// Where the gateway binds and how many inference workers it uses.
struct GatewayOptions: ParsableArguments {
    @Option(help: "Address the gateway binds (default 127.0.0.1).") var host: String?
    @Option(help: "Port the gateway binds (default 8080).") var port: Int?
    @Option(help: "Number of inference workers (default 1).") var inferenceWorkers: Int?
    @Option(help: "UNETR model card for the inference workers, or none (default: the shipped Weights/metis-synthetic-unetr.json when found).")
    var model: String?
    @Option(help: "Engine for segmentations that name none: unetr or classical (default: chosen by the model card's evaluation).")
    var defaultEngine: String?
    @Option(help: "OpenBLAS threads per inference worker (default: all cores).") var inferenceThreads: Int?
    @Option(name: .customLong("max-upload-bytes"), help: "Largest upload body the gateway reads (default 1 GiB).")
    var maximumUploadSize: Int?
    @Option(help: "The site's series names and their sequence, read before the DICOM attributes: 'T1 GADO 3D=t1c; FLAIR CUBE=flair'.")
    var sequenceNames: String?
    @Option(help: "tokens (default: requests need an access token) or none (only when the gateway binds loopback).")
    var auth: String?
    @Option(help: "PEM certificate chain: the gateway serves HTTPS only (with --tls-key).") var tlsCertificate: String?
    @Option(help: "PEM private key of --tls-certificate.") var tlsKey: String?

    func apply(to configuration: inout MetisConfiguration) throws {
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let inferenceWorkers { configuration.inferenceWorkers = inferenceWorkers }
        if let model { configuration.modelCard = model }
        if let defaultEngine { try configuration.set("default_engine", to: defaultEngine, source: "--default-engine") }
        if let inferenceThreads { configuration.inferenceThreads = inferenceThreads }
        if let maximumUploadSize { configuration.maximumUploadSize = maximumUploadSize }
        if let auth { try configuration.set("auth", to: auth, source: "--auth") }
        if let sequenceNames { try configuration.set("sequence_names", to: sequenceNames, source: "--sequence-names") }
        if let tlsCertificate { configuration.tlsCertificate = tlsCertificate }
        if let tlsKey { configuration.tlsKey = tlsKey }
    }
}
