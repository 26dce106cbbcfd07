/// Identifies one RPC method on the wire, e.g. `metis.v1.Storage/GetStatistics`.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    /// How the server answers.
    public enum Kind: Hashable, Sendable {
        /// One request, one response.
        case unary
        /// One request, any number of responses.
        case serverStreaming
    }

    /// Fully qualified service name, e.g. `metis.v1.Storage`.
    public let service: String
    /// Method name, e.g. `GetStatistics`.
    public let method: String
    public let kind: Kind

    public init(service: String, method: String, kind: Kind) {
        self.service = service
        self.method = method
        self.kind = kind
    }

    /// The name carried in `Frame.method`.
    public var fullName: String { "\(service)/\(method)" }

    public var description: String { fullName }
}
