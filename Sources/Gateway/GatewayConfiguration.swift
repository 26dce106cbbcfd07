public import Foundation
public import MetisRPC
public import MetisProcess

/// Where the gateway listens and where it finds the services.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var storage: RPCAddress
    public var tracking: RPCAddress
    /// One address per inference worker; calls are spread over them.
    public var inference: [RPCAddress]
    /// Largest upload body (STOW-RS, /uploadDicom), in bytes; larger ones get 413.
    public var maximumUploadSize: Int
    /// Largest series a segmentation job sends to a worker, in bytes.
    public var maximumSeriesSize: Int
    /// The site's series names → sequence ("t1c", "flair", …), read before the DICOM attributes when choosing a series.
    public var sequenceNames: [String: String]
    /// How long `/healthz` waits for each service.
    public var healthTimeout: Duration
    public var version: String
    /// Where follow-up updates wait until metis-tracking has them (survives a gateway crash); nil keeps them in memory.
    public var followUpOutbox: URL?
    /// The access tokens requests must carry; nil: no authentication (`auth = none`, loopback only).
    public var tokens: TokenStore?
    /// Where requests touching patient data are recorded; nil: not recorded.
    public var audit: AuditLog?
    /// PEM certificate chain and private key: the gateway then speaks HTTPS only (with HSTS).
    public var tls: (certificate: String, privateKey: String)?
    /// Mutual TLS for services reached over TCP (required unless on loopback).
    public var rpcTransportSecurity: RPCTransportSecurity?
    /// The DIMSE edge; nil: no DICOM networking.
    public var dicom: DIMSEConfiguration?
    /// Where the gateway serves the Ingest RPC (`metis import`); nil: not served.
    public var ingestAddress: RPCAddress?
    /// The arrival rules and their persisted queue; nil: arrivals are not watched.
    public var arrivals: ArrivalSettings?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        storage: RPCAddress,
        tracking: RPCAddress,
        inference: [RPCAddress],
        maximumUploadSize: Int = 1 << 30,
        maximumSeriesSize: Int = MetisConfiguration.defaultMaximumSeriesSize,
        sequenceNames: [String: String] = [:],
        healthTimeout: Duration = .seconds(2),
        version: String,
        followUpOutbox: URL? = nil,
        tokens: TokenStore? = nil,
        audit: AuditLog? = nil,
        tls: (certificate: String, privateKey: String)? = nil,
        rpcTransportSecurity: RPCTransportSecurity? = nil,
        dicom: DIMSEConfiguration? = nil,
        ingestAddress: RPCAddress? = nil,
        arrivals: ArrivalSettings? = nil
    ) {
        self.arrivals = arrivals
        self.dicom = dicom
        self.ingestAddress = ingestAddress
        self.tls = tls
        self.rpcTransportSecurity = rpcTransportSecurity
        self.tokens = tokens
        self.audit = audit
        self.followUpOutbox = followUpOutbox
        self.host = host
        self.port = port
        self.storage = storage
        self.tracking = tracking
        self.inference = inference
        self.maximumUploadSize = maximumUploadSize
        self.maximumSeriesSize = maximumSeriesSize
        self.sequenceNames = sequenceNames
        self.healthTimeout = healthTimeout
        self.version = version
    }
}
