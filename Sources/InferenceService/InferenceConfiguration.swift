public import MetisRPC

/// How one metis-inference worker listens and computes.
public struct InferenceConfiguration: Sendable {
    public var address: RPCAddress
    /// Worker index under `metis up` (0 for a lone worker).
    public var workerIndex: Int
    public var rpc: RPCServer.Configuration
    /// The UNETR model card to load; "none" for none; nil to look for the shipped one.
    public var modelCard: String?
    /// OpenBLAS threads; nil leaves OpenBLAS's own choice.
    public var threads: Int?
    /// The site's default engine; nil: chosen by the model card's evaluation.
    public var defaultEngine: String?

    public init(
        address: RPCAddress, workerIndex: Int = 0, rpc: RPCServer.Configuration = .init(), modelCard: String? = nil, threads: Int? = nil,
        defaultEngine: String? = nil
    ) {
        self.defaultEngine = defaultEngine
        self.address = address
        self.workerIndex = workerIndex
        self.rpc = rpc
        self.modelCard = modelCard
        self.threads = threads
    }
}
