/// A set of RPC methods a server exposes. Generated `ServiceProtocol`s refine it
/// and provide `registerMethods(with:)`.
public protocol RPCService: Sendable {
    func registerMethods(with router: inout RPCRouter)
}
