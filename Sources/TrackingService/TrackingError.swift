import MetisRPC

/// Why a tracking operation failed; maps to an RPC status.
struct TrackingError: Error, RPCErrorConvertible, CustomStringConvertible {
    enum Kind {
        case invalidArgument, notFound
    }
    let kind: Kind
    let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    var description: String { message }

    var rpcError: RPCError {
        switch kind {
        case .invalidArgument: RPCError(code: .invalidArgument, message: message)
        case .notFound: RPCError(code: .notFound, message: message)
        }
    }
}
