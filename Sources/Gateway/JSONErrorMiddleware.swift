import Foundation
import Hummingbird
import Logging

/// Turns every error a route throws into a JSON body with its HTTP status:
/// `{"error": {"status": 404, "message": "..."}}`. Errors that are not HTTP
/// errors become a 500 whose body says nothing internal; they are logged.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Body: Encodable {
        struct Detail: Encodable {
            var status: Int
            var message: String
        }
        var error: Detail
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return Self.response(status: error.status, message: error.body ?? error.status.reasonPhrase, headers: error.headers)
        } catch let error as any HTTPResponseError {
            return Self.response(status: error.status, message: error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed: \(error)", metadata: ["http.path": "\(request.uri.path)"])
            return Self.response(status: .internalServerError, message: "internal error")
        }
    }

    static func response(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) -> Response {
        let body = Body(error: .init(status: status.code, message: message))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
