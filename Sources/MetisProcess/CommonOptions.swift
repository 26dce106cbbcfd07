public import ArgumentParser
import Foundation
import Logging

/// Options every Metis command takes; flags override file and environment.
public struct CommonOptions: ParsableArguments {
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

    @Option(
        name: .customLong("dicom-validation"),
        help: "lenient (default): store files with small conformance defects as sent, with a warning; strict: refuse them.")
    var dicomValidation: String?

    @Option(
        name: .customLong("instance-conflicts"),
        help: "refuse (default): an instance whose SOP Instance UID is stored with other bytes is refused; overwrite: it replaces it.")
    var instanceConflicts: String?

    @Option(help: "PEM certificate chain this process presents on RPC over TCP (mutual TLS; with --rpc-tls-key and --rpc-tls-trust).")
    var rpcTLSCertificate: String?
    @Option(help: "PEM private key of --rpc-tls-certificate.") var rpcTLSKey: String?
    @Option(help: "PEM certificates (a CA, or the shared self-signed certificate) an RPC peer must chain to.") var rpcTLSTrust: String?

    /// Defaults ← file ← environment ← these flags.
    public init() {}

    public func configuration(_ apply: (inout MetisConfiguration) throws -> Void = { _ in }) throws -> MetisConfiguration {
        var configuration = try MetisConfiguration.load(file: configFile, environment: ProcessInfo.processInfo.environment)
        if let dataDirectory { configuration.dataDirectory = URL(fileURLWithPath: dataDirectory, isDirectory: true) }
        if let logLevel { try configuration.set("log_level", to: logLevel, source: "--log-level") }
        if let maximumFrameSize { configuration.maximumFrameSize = maximumFrameSize }
        if let maximumSeriesSize { configuration.maximumSeriesSize = maximumSeriesSize }
        if let dicomValidation { try configuration.set("dicom_validation", to: dicomValidation, source: "--dicom-validation") }
        if let instanceConflicts { try configuration.set("instance_conflicts", to: instanceConflicts, source: "--instance-conflicts") }
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
