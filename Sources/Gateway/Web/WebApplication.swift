import Foundation
import HTTPTypes
import Hummingbird

/// The browser application: static HTML, CSS and JavaScript modules shipped
/// in the Gateway's resources (`WebApp/`), read once at start. Page routes
/// (`/`, `/studies`, `/viewer/{uid}`, `/tracking`, `/tracking/{id}`) answer
/// the application's shell; its files are under `/app/`. Every answer carries
/// a strict Content-Security-Policy: scripts and styles only from this
/// origin, no inline code.
struct WebApplication: Sendable {
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        var eTag: String
    }

    /// By path below `WebApp/`, e.g. `js/app.js`.
    let files: [String: File]

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    /// Where the files are: the resource bundle next to the executable (as `swift build` and
    /// `deploy/systemd/install` place it), else this source tree's copy. (`Bundle.module`
    /// would stop the process when the bundle is missing; the API must serve regardless.)
    static var installedDirectory: URL? {
        let executable = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let candidates = [
            executable.deletingLastPathComponent().appendingPathComponent("Metis_Gateway.resources/WebApp"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("WebApp"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }

    /// Reads the shipped files; empty when they are missing (the API still serves).
    static func load(from directory: URL? = installedDirectory) -> WebApplication {
        guard let directory else { return WebApplication(files: [:]) }
        var files = [String: File]()
        let root = directory.standardizedFileURL.path
        let walker = FileManager.default.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            let digest = data.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }  // FNV-1a
            files[relative] = File(
                bytes: ByteBuffer(bytes: data), contentType: contentType(of: relative), eTag: "\"" + String(digest, radix: 16) + "\"")
        }
        return WebApplication(files: files)
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    func register(on router: Router<some RequestContext>, index: @escaping @Sendable (Request) -> Response) {
        router.get("/") { request, _ in
            // Browsers get the application; API clients the service index.
            (request.headers[.accept] ?? "").contains("text/html") ? try serve("index.html", request) : index(request)
        }
        for page in ["/studies", "/viewer/:uid", "/tracking", "/tracking/:id"] {
            router.get(RouterPath(page)) { request, _ in try serve("index.html", request) }
        }
        router.get("/app/**") { request, context in
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return try serve(path, request)
        }
    }

    private func serve(_ path: String, _ request: Request) throws -> Response {
        guard let file = files[path] else {
            throw HTTPError(.notFound, message: files.isEmpty ? "the web application's files are not installed" : "no file /app/\(path)")
        }
        var headers = Self.securityHeaders
        headers[.contentType] = file.contentType
        headers[.eTag] = file.eTag
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch] == file.eTag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.bytes))
    }
}
