public import Foundation
public import SwiftProtobuf

/// The error of a failed call: a gRPC-style status code, a message and, on the
/// side that raised it, the underlying cause.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// A gRPC status code (the numbers of `google.rpc.Code`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let status: Metis_V1_StatusCode

        init(_ status: Metis_V1_StatusCode) {
            // Unknown numbers from a newer peer read as `unknown`.
            if case .UNRECOGNIZED = status {
                self.status = .unknown
            } else {
                self.status = status
            }
        }

        public static let cancelled = Code(.cancelled)
        public static let unknown = Code(.unknown)
        public static let invalidArgument = Code(.invalidArgument)
        public static let deadlineExceeded = Code(.deadlineExceeded)
        public static let notFound = Code(.notFound)
        public static let alreadyExists = Code(.alreadyExists)
        public static let permissionDenied = Code(.permissionDenied)
        public static let resourceExhausted = Code(.resourceExhausted)
        public static let failedPrecondition = Code(.failedPrecondition)
        public static let aborted = Code(.aborted)
        public static let outOfRange = Code(.outOfRange)
        public static let unimplemented = Code(.unimplemented)
        public static let `internal` = Code(.internal)
        public static let unavailable = Code(.unavailable)
        public static let dataLoss = Code(.dataLoss)
        public static let unauthenticated = Code(.unauthenticated)

        /// The code's number on the wire.
        public var rawValue: Int { status.rawValue }

        public var description: String {
            switch status {
            case .ok: "OK"
            case .cancelled: "CANCELLED"
            case .unknown, .UNRECOGNIZED: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }
    }

    public var code: Code
    public var message: String
    /// An encoded message the method documents for its errors; empty when none.
    public var details: Data
    public var cause: (any Error)?

    public init(code: Code, message: String, details: Data = Data(), cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.cause = cause
    }

    /// An error carrying `details` encoded.
    public init(code: Code, message: String, details: some SwiftProtobuf.Message) {
        self.init(code: code, message: message, details: (try? details.serializedBytes()) ?? Data())
    }

    /// The details decoded as `type`, or nil when there are none or they are not one.
    public func details<Details: SwiftProtobuf.Message>(as type: Details.Type) -> Details? {
        guard !details.isEmpty else { return nil }
        return try? Details(serializedBytes: details)
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    init(status: Metis_V1_Status) {
        self.init(code: Code(status.code), message: status.message, details: status.details)
    }

    var wireStatus: Metis_V1_Status {
        .with {
            $0.code = code.status
            $0.message = message
            $0.details = details
        }
    }
}

/// An error a service can throw that knows its RPC status.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The status a server answers for any error a handler threw.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case let error as any RPCErrorConvertible: error.rpcError
        case is CancellationError: RPCError(code: .cancelled, message: "call cancelled")
        default: RPCError(code: .internal, message: "internal error: \(type(of: error))", cause: error)
        }
    }
}
