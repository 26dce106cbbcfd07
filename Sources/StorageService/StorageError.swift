import MetisProto
import MetisRPC

/// Why a storage operation failed; maps to an RPC status.
struct StorageError: Error, RPCErrorConvertible, CustomStringConvertible {
    enum Kind {
        case invalidInstance, conflict, notFound, io, `internal`
        /// The instance cannot be given in any transfer syntax the caller takes.
        case unacceptableSyntax
    }
    let kind: Kind
    let message: String
    /// Why a stored instance was refused, where a conflict needs saying which.
    var refusal: Metis_V1_StoreRefusal.Reason

    init(kind: Kind, refusal: Metis_V1_StoreRefusal.Reason = .unspecified, message: String) {
        self.kind = kind
        self.refusal = refusal
        self.message = message
    }

    static func invalid(_ message: String) -> StorageError { StorageError(kind: .invalidInstance, message: message) }
    static func io(_ message: String) -> StorageError { StorageError(kind: .io, message: message) }

    var description: String { message }

    var rpcError: RPCError {
        switch kind {
        case .invalidInstance: RPCError(code: .invalidArgument, message: message)
        case .conflict: RPCError(code: .alreadyExists, message: message)
        case .notFound: RPCError(code: .notFound, message: message)
        case .io: RPCError(code: .unavailable, message: message)
        case .internal: RPCError(code: .internal, message: message)
        case .unacceptableSyntax: RPCError(code: .failedPrecondition, message: message)
        }
    }
}
