public import MetisRPC

/// How one metis-inference worker listens and computes.
public struct InferenceConfiguration: Sendable {
    public var address: RPCAddress
    /// Worker index under `metis up` (0 for a lone worker).
    public var workerIndex: Int
    public var rpc: RPCServer.Configuration

    public init(address: RPCAddress, workerIndex: Int = 0, rpc: RPCServer.Configuration = .init()) {
        self.address = address
        self.workerIndex = workerIndex
        self.rpc = rpc
    }
}
