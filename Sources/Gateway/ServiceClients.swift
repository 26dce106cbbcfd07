import Logging
import MetisProcess
import MetisProto
import MetisRPC

/// The gateway's connections to the services. Connections are made on first
/// use and re-made after a service restarts, so the gateway never needs one.
struct ServiceClients: Sendable {
    struct Endpoint: Sendable {
        let name: String
        let connection: RPCConnection
    }

    let storage: RPCConnection
    let tracking: RPCConnection
    let inferenceWorkers: [RPCConnection]
    /// Segmentation jobs go through the pool, spread over the workers.
    let inference: RPCClientPool

    init(configuration: GatewayConfiguration, logger: Logger) {
        var channel = RPCConnection.Configuration()
        channel.transportSecurity = configuration.rpcTransportSecurity
        storage = RPCConnection(address: configuration.storage, configuration: channel, logger: logger)
        tracking = RPCConnection(address: configuration.tracking, configuration: channel, logger: logger)
        // A segmentation request carries a whole series: that channel takes larger frames.
        var inferenceChannel = channel
        inferenceChannel.maximumFrameSize = MetisConfiguration.inferenceFrameSize(
            maximumFrameSize: inferenceChannel.maximumFrameSize, maximumSeriesSize: configuration.maximumSeriesSize)
        inferenceWorkers = configuration.inference.map { RPCConnection(address: $0, configuration: inferenceChannel, logger: logger) }
        inference = RPCClientPool(connections: inferenceWorkers, strategy: .leastInFlight)
    }

    /// Every service instance, named as `/healthz` reports it.
    var endpoints: [Endpoint] {
        var endpoints = [Endpoint(name: "storage", connection: storage), Endpoint(name: "tracking", connection: tracking)]
        for (index, worker) in inferenceWorkers.enumerated() {
            endpoints.append(Endpoint(name: "inference-\(index)", connection: worker))
        }
        return endpoints
    }

    func close() async {
        for endpoint in endpoints { await endpoint.connection.close() }
    }
}
