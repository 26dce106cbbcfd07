import HTTPTypes
import Hummingbird
import Foundation
import Logging

/// Bearer-token authentication and the audit trail. No or an unknown token
/// is 401 (with `WWW-Authenticate: Bearer`), a token whose role is too low
/// 403. Each request's logger carries the token's id and role; each request
/// that touches patient data, allowed or refused, is written to the audit log.
/// Without a token store (`auth = none`) every request passes and is audited.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenStore?
    let audit: AuditLog?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let required = AccessPolicy.requiredRole(method: request.method, path: request.uri.path) else {
            return try await next(request, context)
        }
        var record: TokenStore.Record?
        do {
            if let tokens {
                do {
                    let known = try identify(request, tokens: tokens, context: context)
                    record = known
                    guard known.role >= required else {
                        throw HTTPError(
                            .forbidden, message: "a \(known.role.rawValue) token cannot do this: it needs the \(required.rawValue) role")
                    }
                } catch var refusal as HTTPError {
                    // A client that sends its whole body before reading (urllib, curl without Expect) would wait
                    // forever for an answer to a body nobody reads: read and discard it, or close (RFC 9112 §9.6).
                    if await !Self.discardBody(of: request, upTo: Self.discardLimit) { refusal.headers[.connection] = "close" }
                    throw refusal
                }
            }
            var context = context
            if let record {
                context.logger[metadataKey: "auth.token"] = "\(record.id)"
                context.logger[metadataKey: "auth.role"] = "\(record.role.rawValue)"
            }
            let response = try await next(request, context)
            write(request, context: context, record: record, status: response.status.code)
            return response
        } catch {
            write(request, context: context, record: record, status: (error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }

    private func write(_ request: Request, context: Context, record: TokenStore.Record?, status: Int) {
        guard let audit else { return }
        let path = request.uri.path
        let subjects = AuditLog.subjects(of: path)
        let client: String? =
            switch (context as? any RemoteAddressRequestContext)?.remoteAddress {
            case .some(let address): address.ipAddress ?? address.pathname
            case .none: nil
            }
        audit.record(
            AuditLog.Entry(
                time: AuditLog.timestamp(), action: AuditLog.action(method: request.method.rawValue, path: path),
                method: request.method.rawValue, path: path, studyInstanceUID: subjects.study, patientID: subjects.patient, status: status,
                token: record?.id ?? (tokens == nil ? "none" : nil), role: record?.role.rawValue, client: client))
    }

    /// The most of a refused request's body read and thrown away before answering; beyond it the connection is closed.
    static var discardLimit: Int { 16 << 20 }

    /// Reads the body to its end; false when it exceeds `limit` or cannot be read.
    static func discardBody(of request: Request, upTo limit: Int) async -> Bool {
        var seen = 0
        do {
            for try await chunk in request.body {
                seen += chunk.readableBytes
                if seen > limit { return false }
            }
        } catch {
            return false
        }
        return true
    }

    /// The request's token; 401 when there is none or it is unknown.
    private func identify(_ request: Request, tokens: TokenStore, context: Context) throws -> TokenStore.Record {
        guard let token = TokenStore.bearerToken(from: request.headers[.authorization]) else {
            throw Self.unauthorized("this route needs an access token (Authorization: Bearer …)")
        }
        let record: TokenStore.Record?
        do {
            record = try tokens.authenticate(token)
        } catch {
            context.logger.error("token store unreadable", metadata: ["error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "access tokens cannot be checked right now")
        }
        guard let record else { throw Self.unauthorized("unknown or revoked access token") }
        return record
    }

    static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"metis\""], message: message)
    }
}
