public import ArgumentParser
import Foundation
import Logging
public import MetisProcess
import MetisRPC

/// `metis-gateway` (and `metis gateway`): runs the gateway.
public struct GatewayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Run metis-gateway: the HTTP API, DICOMweb and the web UI.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var gateway: GatewayOptions
    @Option(help: "metis-storage address (default <data>/run/storage.sock).") var storage: String?
    @Option(help: "metis-tracking address (default <data>/run/tracking.sock).") var tracking: String?
    @Option(help: "A metis-inference worker address; repeat for several (default one per --inference-workers).")
    var inference: [String] = []

    public init() {}

    public func run() async throws {
        let configuration = try common.configuration(gateway.apply)
        ProcessRunner.bootstrapLogging(level: configuration.logLevel)
        ProcessRunner.returnLargeBuffersToTheSystem()
        try ServiceProcess.prepareRunDirectory(for: configuration.gatewayIngestAddress)
        let application = try Gateway.build(
            configuration: GatewayConfiguration(
                host: configuration.host,
                port: configuration.port,
                storage: try storage.map { try RPCAddress(parsing: $0) } ?? configuration.storageAddress,
                tracking: try tracking.map { try RPCAddress(parsing: $0) } ?? configuration.trackingAddress,
                inference: inference.isEmpty ? configuration.inferenceAddresses : try inference.map { try RPCAddress(parsing: $0) },
                maximumUploadSize: configuration.maximumUploadSize,
                maximumSeriesSize: configuration.maximumSeriesSize,
                sequenceNames: configuration.sequenceNames,
                version: MetisVersion.current,
                followUpOutbox: configuration.dataDirectory.appendingPathComponent("gateway/follow-up-outbox", isDirectory: true),
                tokens: configuration.authentication == .tokens ? TokenStore(file: configuration.tokenFile) : nil,
                audit: try AuditLog(file: configuration.dataDirectory.appendingPathComponent("gateway/audit.jsonl")),
                tls: configuration.tls,
                rpcTransportSecurity: try configuration.rpcTransportSecurity(),
                dicom: configuration.dicomPort == 0
                    ? nil
                    : DIMSEConfiguration(
                        aeTitle: configuration.dicomAETitle, host: configuration.dicomHost ?? configuration.host,
                        port: configuration.dicomPort,
                        peers: configuration.dicomPeers, acceptUnknown: configuration.dicomAcceptUnknown,
                        tls: configuration.tls.flatMap { tls in
                            configuration.dicomTLSPort == 0 ? nil : (tls.certificate, tls.privateKey, configuration.dicomTLSPort)
                        }, tlsTrust: configuration.dicomTLSTrust),
                ingestAddress: configuration.gatewayIngestAddress,
                arrivals: ArrivalSettings(
                    rules: configuration.arrivalRules, stableSeconds: configuration.seriesStableSeconds,
                    retrySeconds: configuration.arrivalRetrySeconds,
                    file: configuration.dataDirectory.appendingPathComponent("gateway/arrivals.json"), aeTitle: configuration.dicomAETitle,
                    peers: configuration.dicomPeers)),
            logger: Logger(label: "metis.gateway"))
        try await ProcessRunner.run([application], logger: Logger(label: "metis.gateway"))
    }
}

/// Where the gateway binds and how many inference workers it uses.
public struct GatewayOptions: ParsableArguments {
    @Option(help: "Address the gateway binds (default 127.0.0.1).") var host: String?
    @Option(help: "Port the gateway binds (default 8080).") var port: Int?
    @Option(help: "Number of inference workers (default 1).") var inferenceWorkers: Int?
    @Option(
        help:
            "Model card (UNETR, SegResNet, SwinUNETR) for the inference workers, or none (default: the shipped Weights/metis-synthetic-unetr.json when found)."
    )
    var model: String?
    @Option(
        help:
            "Engine for segmentations that name none: classical, unetr, segresnet or swinunetr (the model's network) (default: chosen by the model card's evaluation)."
    )
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
    @Option(name: .customLong("dicom-ae-title"), help: "Metis's DICOM AE title (default METIS).") var dicomAETitle: String?
    @Option(help: "Port of the DIMSE edge (default 11112; 0: no DIMSE).") var dicomPort: Int?
    @Option(help: "Address the DIMSE edge binds (default: --host).") var dicomHost: String?
    @Option(help: "Known DICOM peers: 'PACS@10.1.2.3:104/query+retrieve, MRI1@[fd00::5]:11112/store'.") var dicomPeers: String?
    @Option(help: "true: AEs not in --dicom-peers may associate (default false).") var dicomAcceptUnknown: String?
    @Option(help: "Port of DICOM over TLS, with --tls-certificate and --tls-key (default 2762; 0: none).") var dicomTLSPort: Int?
    @Option(help: "PEM certificates trusted when Metis calls a +tls DICOM peer (default: the system's).") var dicomTLSTrust: String?
    @Option(help: "What to do with each completed series: 'modality=MR calling_ae=MRI1 -> segment send=PLAN; …'.")
    var arrivalRules: String?
    @Option(help: "Seconds without a new instance after which a series is complete (default 60).") var seriesStableSeconds: Int?
    @Option(help: "First wait, in seconds, before a failed arrival job is tried again (default 30, doubled each time).")
    var arrivalRetrySeconds: Int?

    public init() {}

    /// These flags over `configuration`.
    public func apply(to configuration: inout MetisConfiguration) throws {
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
        if let dicomAETitle { try configuration.set("dicom_ae_title", to: dicomAETitle, source: "--dicom-ae-title") }
        if let dicomPort { configuration.dicomPort = dicomPort }
        if let dicomHost { configuration.dicomHost = dicomHost }
        if let dicomPeers { try configuration.set("dicom_peers", to: dicomPeers, source: "--dicom-peers") }
        if let dicomAcceptUnknown {
            try configuration.set("dicom_accept_unknown", to: dicomAcceptUnknown, source: "--dicom-accept-unknown")
        }
        if let dicomTLSPort { configuration.dicomTLSPort = dicomTLSPort }
        if let dicomTLSTrust { configuration.dicomTLSTrust = dicomTLSTrust }
        if let arrivalRules { try configuration.set("arrival_rules", to: arrivalRules, source: "--arrival-rules") }
        if let seriesStableSeconds { configuration.seriesStableSeconds = seriesStableSeconds }
        if let arrivalRetrySeconds { configuration.arrivalRetrySeconds = arrivalRetrySeconds }
    }
}
