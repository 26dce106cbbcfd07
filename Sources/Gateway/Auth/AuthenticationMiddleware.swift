import HTTPTypes
import Hummingbird
import Foundation
import Logging

/// Bearer-token authentication: no or an unknown token is 401 (with
/// `WWW-Authenticate: Bearer`), a token whose role is too low 403. Each
/// request's logger carries the token's id and role.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let required = AccessPolicy.requiredRole(method: request.method, path: request.uri.path) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Self.unauthorized("this route needs an access token (Authorization: Bearer …)")
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let record: TokenStore.Record?
        do {
            record = try tokens.authenticate(token)
        } catch {
            context.logger.error("token store unreadable", metadata: ["error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "access tokens cannot be checked right now")
        }
        guard let record else { throw Self.unauthorized("unknown or revoked access token") }
        guard record.role >= required else {
            throw HTTPError(.forbidden, message: "a \(record.role.rawValue) token cannot do this: it needs the \(required.rawValue) role")
        }
        var context = context
        context.logger[metadataKey: "auth.token"] = "\(record.id)"
        context.logger[metadataKey: "auth.role"] = "\(record.role.rawValue)"
        return try await next(request, context)
    }

    static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"metis\""], message: message)
    }
}
