import Hummingbird
import MetisRPC

extension HTTPError {
    /// The HTTP answer to a failed service call: the status a client can act
    /// on, and the service's message (which names what was wrong).
    init(_ error: RPCError, service: String) {
        let status: HTTPResponse.Status
        switch error.code {
        case .invalidArgument, .outOfRange, .failedPrecondition: status = .badRequest
        case .notFound: status = .notFound
        case .alreadyExists, .aborted: status = .conflict
        case .resourceExhausted: status = .contentTooLarge
        case .deadlineExceeded: status = .gatewayTimeout
        case .unavailable, .cancelled: status = .serviceUnavailable
        case .permissionDenied: status = .forbidden
        case .unauthenticated: status = .unauthorized
        case .unimplemented: status = .notImplemented
        default: status = .badGateway
        }
        let message = status == .serviceUnavailable ? "\(service) is unavailable: \(error.message)" : error.message
        self.init(status, message: message)
    }
}

/// Runs a service call, turning its failure into the matching HTTP error.
func calling<T>(_ service: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        throw HTTPError(error, service: service)
    }
}
