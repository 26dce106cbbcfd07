public import MetisRPC

/// Where the gateway listens and where it finds the services.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var storage: RPCAddress
    public var tracking: RPCAddress
    /// One address per inference worker; calls are spread over them.
    public var inference: [RPCAddress]
    /// How long `/healthz` waits for each service.
    public var healthTimeout: Duration
    public var version: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        storage: RPCAddress,
        tracking: RPCAddress,
        inference: [RPCAddress],
        healthTimeout: Duration = .seconds(2),
        version: String
    ) {
        self.host = host
        self.port = port
        self.storage = storage
        self.tracking = tracking
        self.inference = inference
        self.healthTimeout = healthTimeout
        self.version = version
    }
}
