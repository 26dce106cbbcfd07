public import Foundation
public import Logging
public import MetisRPC

/// The configuration of a whole Metis installation, with embedded defaults:
/// data under `./data`, sockets under `./data/run`, the gateway on `127.0.0.1:8080`.
///
/// Values come from, in rising precedence: the defaults, the configuration file
/// (`--config`), `METIS_*` environment variables, command-line flags.
public struct MetisConfiguration: Sendable, Equatable {
    public var dataDirectory: URL = URL(fileURLWithPath: "data", isDirectory: true)
    /// Where the Unix sockets live; `<data>/run` when unset.
    public var socketDirectory: URL?
    public var host = "127.0.0.1"
    public var port = 8080
    public var inferenceWorkers = 1
    public var maximumFrameSize = FrameDecoder.defaultMaximumFrameSize
    /// Largest HTTP upload body (STOW-RS, /uploadDicom) the gateway reads.
    public var maximumUploadSize = 1 << 30
    /// Largest series (sum of its instances' bytes) a segmentation job sends
    /// to an inference worker in one request; raises that channel's frame limit.
    public var maximumSeriesSize = Self.defaultMaximumSeriesSize
    public var logLevel: Logger.Level = .info
    /// The model card (UNETR or SegResNet) the inference workers load: a path, "none", or
    /// nil to use the shipped one when it is found (Weights/metis-synthetic-unetr.json).
    public var modelCard: String?
    /// The engine a segmentation naming none gets: nil to let the model card's
    /// evaluation decide (`DefaultEngine`), or one of `engineNames`.
    public var defaultEngine: String?
    /// The engines a setting may name: the classical one, and a model's by its network.
    public static let engineNames = ["classical", "unetr", "segresnet", "swinunetr"]
    /// `dicom_validation`: `lenient` (default) stores files with small conformance defects as sent, with a
    /// warning; `strict` refuses them.
    public var strictDICOMValidation = false
    /// `instance_conflicts`: `refuse` (default) refuses an instance whose SOP Instance UID is stored with other bytes;
    /// `overwrite` replaces the stored one. The same bytes again are always a success.
    public var overwritesInstances = false
    /// The DIMSE edge: Metis's AE title, its port (0: no DIMSE) and the address it binds (nil: `host`).
    public var dicomAETitle = "METIS"
    public var dicomPort = 11112
    public var dicomHost: String?
    /// The AEs that may associate with Metis, and that it sends to and queries.
    public var dicomPeers: [DICOMPeer] = []
    /// Whether AEs not in `dicomPeers` may associate (any host; every service but being a destination).
    public var dicomAcceptUnknown = false
    /// Port of the DIMSE edge over TLS (PS3.15 Annex B), with the HTTPS certificate (`tls_certificate`, `tls_key`);
    /// listened on only when those are set. 0: no DICOM TLS.
    public var dicomTLSPort = 2762
    /// PEM certificates Metis trusts when it calls a `+tls` peer; nil: the system's roots.
    public var dicomTLSTrust: String?
    /// What to do with each completed series (`arrival_rules`); the first rule that matches applies.
    public var arrivalRules: [ArrivalRule] = []
    /// A series is complete when no instance of it arrived for this long (Orthanc's "stable" series).
    public var seriesStableSeconds = 60
    /// First wait before an arrival job that failed is tried again; doubled each time, at most an hour.
    public var arrivalRetrySeconds = 30
    /// The site's protocol or series names → sequence ("t1c", "flair", "t2", "t1", "dwi"), read before the DICOM attributes.
    public var sequenceNames: [String: String] = [:]
    /// OpenBLAS threads per inference worker; nil: OpenBLAS's own choice (all cores).
    public var inferenceThreads: Int?
    /// Whether the gateway asks for access tokens (the default) or not (loopback only).
    public var authentication = AuthenticationMode.tokens
    /// Users, besides the services' own and root, whose processes may connect to the service sockets.
    public var peerUserIDs: Set<UInt32> = []
    /// PEM certificate chain and key: the gateway serves HTTPS only.
    public var tlsCertificate: String?
    public var tlsKey: String?

    /// PEM certificate chain, key and trusted certificates for mutual TLS on
    /// the RPC transport over TCP (services in other pods or on other machines).
    public var rpcTLSCertificate: String?
    public var rpcTLSKey: String?
    public var rpcTLSTrust: String?

    /// Both TLS files, when TLS is on.
    public var tls: (certificate: String, privateKey: String)? {
        guard let tlsCertificate, let tlsKey else { return nil }
        return (URL(fileURLWithPath: tlsCertificate).path, URL(fileURLWithPath: tlsKey).path)
    }

    public init() {}

    /// Where the gateway's access tokens (their hashes) are kept.
    public var tokenFile: URL { dataDirectory.appendingPathComponent("gateway/tokens.json") }

    public var runDirectory: URL {
        socketDirectory ?? dataDirectory.appendingPathComponent("run", isDirectory: true)
    }

    public var storageDirectory: URL { dataDirectory.appendingPathComponent("storage", isDirectory: true) }
    public var trackingDirectory: URL { dataDirectory.appendingPathComponent("tracking", isDirectory: true) }

    public var storageAddress: RPCAddress { .unix(path: runDirectory.appendingPathComponent("storage.sock").path) }
    public var trackingAddress: RPCAddress { .unix(path: runDirectory.appendingPathComponent("tracking.sock").path) }
    /// The gateway's own RPC socket: the Ingest service `metis import` uses.
    public var gatewayIngestAddress: RPCAddress { .unix(path: runDirectory.appendingPathComponent("gateway.sock").path) }

    public func inferenceAddress(worker: Int) -> RPCAddress {
        .unix(path: runDirectory.appendingPathComponent("inference-\(worker).sock").path)
    }

    public var inferenceAddresses: [RPCAddress] { (0..<inferenceWorkers).map(inferenceAddress(worker:)) }

    /// Where a browser opens Metis.
    public var gatewayURL: String {
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let scheme = tls == nil ? "http" : "https"
        return shownHost.contains(":") ? "\(scheme)://[\(shownHost)]:\(port)/" : "\(scheme)://\(shownHost):\(port)/"
    }

    /// The largest series a segmentation job sends by default: 512 MiB.
    public static let defaultMaximumSeriesSize = 512 << 20

    /// The frame limit of the segmentation channel (gateway ↔ inference workers), whose request carries a whole series.
    public var inferenceFrameSize: Int { Self.inferenceFrameSize(maximumFrameSize: maximumFrameSize, maximumSeriesSize: maximumSeriesSize) }

    /// The segmentation channel's frame limit for these two settings: a series and 1 MiB for the rest of the message.
    public static func inferenceFrameSize(maximumFrameSize: Int, maximumSeriesSize: Int) -> Int {
        max(maximumFrameSize, maximumSeriesSize + (1 << 20))
    }

    /// The RPC transport's TLS, loaded from its three files; nil when they are not set.
    public func rpcTransportSecurity() throws(ConfigurationError) -> RPCTransportSecurity? {
        guard let rpcTLSCertificate, let rpcTLSKey, let rpcTLSTrust else { return nil }
        do {
            return try RPCTransportSecurity(certificateFile: rpcTLSCertificate, privateKeyFile: rpcTLSKey, trustFile: rpcTLSTrust)
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    public func rpcClient() throws(ConfigurationError) -> RPCConnection.Configuration {
        var rpc = RPCConnection.Configuration()
        rpc.transportSecurity = try rpcTransportSecurity()
        return rpc
    }

    public func rpcServer() throws(ConfigurationError) -> RPCServer.Configuration {
        var rpc = RPCServer.Configuration()
        rpc.maximumFrameSize = maximumFrameSize
        rpc.allowedPeerUserIDs = (rpc.allowedPeerUserIDs ?? []).union(peerUserIDs)
        rpc.transportSecurity = try rpcTransportSecurity()
        return rpc
    }

    /// Checks values that parse but cannot work.
    public func validate() throws(ConfigurationError) {
        guard (1...65535).contains(port) else { throw ConfigurationError("port must be 1...65535, got \(port)") }
        guard (1...64).contains(inferenceWorkers) else {
            throw ConfigurationError("inference workers must be 1...64, got \(inferenceWorkers)")
        }
        guard maximumFrameSize >= 1024 else {
            throw ConfigurationError("maximum frame size must be at least 1024 bytes, got \(maximumFrameSize)")
        }
        guard maximumUploadSize >= 1024 else {
            throw ConfigurationError("maximum upload size must be at least 1024 bytes, got \(maximumUploadSize)")
        }
        guard maximumSeriesSize >= 1 << 20 else {
            throw ConfigurationError("maximum series size must be at least 1 MiB, got \(maximumSeriesSize)")
        }
        guard !host.isEmpty else { throw ConfigurationError("host must not be empty") }
        guard (0...65535).contains(dicomPort) else { throw ConfigurationError("dicom_port must be 0 (off) or 1...65535, got \(dicomPort)") }
        if dicomPort != 0, dicomPort == port, (dicomHost ?? host) == host {
            throw ConfigurationError("dicom_port and port are both \(port): the DIMSE edge and HTTP need ports of their own")
        }
        try DICOMPeer.validateAETitle(dicomAETitle, in: "dicom_ae_title")
        guard (0...65535).contains(dicomTLSPort) else {
            throw ConfigurationError("dicom_tls_port must be 0 (off) or 1...65535, got \(dicomTLSPort)")
        }
        if tlsCertificate != nil, dicomTLSPort != 0, dicomTLSPort == dicomPort || dicomTLSPort == port {
            throw ConfigurationError("dicom_tls_port \(dicomTLSPort) is also dicom_port or port: DICOM over TLS needs a port of its own")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("TLS needs both tls_certificate and tls_key (--tls-certificate, --tls-key)")
        }
        let rpcTLS = [rpcTLSCertificate, rpcTLSKey, rpcTLSTrust]
        if rpcTLS.contains(nil), rpcTLS.contains(where: { $0 != nil }) {
            throw ConfigurationError(
                "RPC TLS needs all three of rpc_tls_certificate, rpc_tls_key and rpc_tls_trust (--rpc-tls-certificate, --rpc-tls-key, --rpc-tls-trust)"
            )
        }
        if authentication == .none, !RPCAddress.isLoopback(host) {
            throw ConfigurationError(
                "auth = none is refused when the gateway binds \(host): without tokens it must bind loopback only (127.0.0.1, ::1 or localhost)"
            )
        }
        guard (1...86400).contains(seriesStableSeconds) else {
            throw ConfigurationError("series_stable_seconds must be 1...86400, got \(seriesStableSeconds)")
        }
        guard (1...3600).contains(arrivalRetrySeconds) else {
            throw ConfigurationError("arrival_retry_seconds must be 1...3600, got \(arrivalRetrySeconds)")
        }
        for rule in arrivalRules {
            for action in rule.actions {
                let destination: String
                switch action {
                case .send(let aeTitle), .forward(let aeTitle): destination = aeTitle
                case .segment: continue
                }
                guard let peer = dicomPeers.first(where: { $0.aeTitle == destination }), peer.services.contains(.store) else {
                    throw ConfigurationError(
                        "arrival rule '\(rule)': \(destination) is not a peer that receives instances (add \(destination)@HOST:PORT/store to dicom_peers)"
                    )
                }
            }
        }
        if let inferenceThreads, !(1...256).contains(inferenceThreads) {
            throw ConfigurationError("inference threads must be 1...256, got \(inferenceThreads)")
        }
    }
}

/// Whether the gateway authenticates requests.
public enum AuthenticationMode: String, Sendable, Equatable {
    /// Bearer tokens with roles (`metis token create`).
    case tokens
    /// No authentication: allowed only when the gateway binds loopback.
    case none
}

/// A configuration value that cannot be used; the message names it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
