public import HTTPTypes

/// The role each request needs. Public: the web application's shell and files
/// (the sign-in screen must load), `/api/v1/session` (says whether a token is
/// needed and what the given one may do), `/healthz` and `/metrics` (no
/// patient data), CORS preflights. Reading needs `viewer`; uploading, segmenting and
/// exporting `clinician`; deleting `admin`.
public enum AccessPolicy {
    public static func requiredRole(method: HTTPRequest.Method, path: String) -> AccessRole? {
        if method == .options { return nil }
        if method == .get || method == .head {
            if isPublic(path) { return nil }
            if path.hasSuffix("/export.csv") || path.hasSuffix("/export.json") { return .clinician }
            return .viewer
        }
        if method == .delete { return .admin }
        return .clinician
    }

    static func isPublic(_ path: String) -> Bool {
        let pages = ["/", "/studies", "/tracking", "/healthz", "/metrics", "/api/v1/session"]
        return pages.contains(path) || path.hasPrefix("/app/") || path.hasPrefix("/viewer/") || path.hasPrefix("/tracking/")
    }
}
