import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The browser application's files and the headers they are served with.
@Suite("web application files")
struct WebApplicationTests {
    static func application() -> some ApplicationProtocol {
        let router = Router()
        WebApplication.load().register(on: router) { _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "index"))) }
        return Application(router: router)
    }

    @Test("the shipped files are found, and none holds inline script, inline style or an external URL")
    func files() throws {
        let web = WebApplication.load()
        for path in [
            "index.html", "css/metis.css", "js/app.js", "js/api.js", "js/viewer.js", "js/studies.js", "js/tracking.js", "js/home.js",
            "js/chart.js", "js/i18n.js",
        ] {
            #expect(web.files[path] != nil, "\(path) is shipped")
        }
        for (path, file) in web.files where path.hasSuffix(".html") || path.hasSuffix(".js") {
            let text = String(buffer: file.bytes)
            let urls = text.ranges(of: /https?:\/\/[^\s'"`]+/).map { String(text[$0]) }.filter { $0 != "http://www.w3.org/2000/svg" }
            #expect(urls.isEmpty, "\(path) fetches nothing from the internet: \(urls)")
            if path.hasSuffix(".html") {
                #expect(text.ranges(of: /<script(?![^>]*\bsrc=)[^>]*>/).isEmpty, "\(path): every script has a src")
                #expect(text.ranges(of: /\son[a-z]+=/).isEmpty && !text.contains("style="), "\(path): no inline handlers or styles")
            } else {
                #expect(!text.contains(".innerHTML") && !text.contains("eval("), "\(path) builds no markup from strings")
                #expect(!text.contains("localStorage"), "\(path) keeps nothing in local storage")
            }
        }
    }

    @Test("pages answer the shell with a strict Content-Security-Policy; API clients keep the JSON index; ETags revalidate")
    func serving() async throws {
        try await Self.application().test(.router) { client in
            for page in ["/studies", "/viewer/1.2.3", "/tracking", "/tracking/PAT-1"] {
                try await client.execute(uri: page, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let policy = response.headers[.contentSecurityPolicy] ?? ""
                    #expect(
                        policy.contains("script-src 'self'") && policy.contains("default-src 'self'") && !policy.contains("unsafe-inline"))
                    #expect(String(buffer: response.body).contains("/app/js/app.js"))
                }
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html,application/xhtml+xml"]) { response in
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "application/json"]) { response in
                #expect(String(buffer: response.body) == "index")
            }
            let tag = try await client.execute(uri: "/app/js/app.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                return response.headers[.eTag]
            }
            try await client.execute(uri: "/app/js/app.js", method: .get, headers: [.ifNoneMatch: tag ?? ""]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: "/app/js/missing.js", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/app/../Package.swift", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
