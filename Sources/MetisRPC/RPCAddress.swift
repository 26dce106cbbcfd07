/// Where a service listens: a Unix socket path, or a TCP host and port for
/// multi-host deployments. Same framing on both.
public enum RPCAddress: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Parses `unix:///abs/path`, `unix:rel/path`, a bare path, or `tcp://host:port`.
    public init(parsing text: String) throws(RPCError) {
        if text.hasPrefix("tcp://") {
            let rest = text.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                (1...65535).contains(port)
            else {
                throw RPCError(code: .invalidArgument, message: "bad TCP address '\(text)': expected tcp://host:port")
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else {
                throw RPCError(code: .invalidArgument, message: "bad TCP address '\(text)': empty host")
            }
            self = .tcp(host: host, port: port)
        } else if text.hasPrefix("unix://") {
            self = .unix(path: String(text.dropFirst("unix://".count)))
        } else if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst("unix:".count)))
        } else if !text.isEmpty, !text.contains("://") {
            self = .unix(path: text)
        } else {
            throw RPCError(code: .invalidArgument, message: "bad address '\(text)': expected a socket path or tcp://host:port")
        }
        if case .unix(let path) = self, path.isEmpty {
            throw RPCError(code: .invalidArgument, message: "bad address '\(text)': empty socket path")
        }
    }

    /// True for a Unix socket or a TCP address on this machine's loopback:
    /// the only places plain (unencrypted) TCP is allowed.
    public var isLocal: Bool {
        switch self {
        case .unix: true
        case .tcp(let host, _): Self.isLoopback(host)
        }
    }

    /// Whether `host` names this machine's loopback (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}
