import Hummingbird

/// Limits on the request line: a target longer than `maximumTargetLength`
/// bytes (query strings included) is a 414 with a JSON error, before any
/// route parses it. (Bodies are limited per route: `max_upload_bytes`.)
struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    var maximumTargetLength = 16 * 1024

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let length = request.uri.string.utf8.count
        guard length <= maximumTargetLength else {
            throw HTTPError(.uriTooLong, message: "the request target is \(length) bytes, more than \(maximumTargetLength)")
        }
        return try await next(request, context)
    }
}
