import Hummingbird

/// `GET /api/v1/session`: whether the gateway asks for tokens and, for the
/// request's token, whether it is valid and its role. Public, and 200 either
/// way, so that the web application can decide to show its sign-in screen.
struct SessionRoute: Sendable {
    let tokens: TokenStore?

    struct Session: ResponseEncodable, Sendable {
        /// "tokens" or "none".
        var authentication: String
        var authenticated: Bool
        var role: String?
        var token: String?
    }

    func register(on router: Router<some RequestContext>) {
        router.get("/api/v1/session") { request, _ -> Session in
            guard let tokens else { return Session(authentication: "none", authenticated: true, role: AccessRole.admin.rawValue) }
            guard let token = TokenStore.bearerToken(from: request.headers[.authorization]), let record = try tokens.authenticate(token)
            else { return Session(authentication: "tokens", authenticated: false) }
            return Session(authentication: "tokens", authenticated: true, role: record.role.rawValue, token: record.id)
        }
    }
}
