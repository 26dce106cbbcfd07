import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MetisRPC
import Testing

@testable import Gateway

@Suite("Gateway health and metrics")
struct GatewayHealthTests {
    /// Real RPC servers answering Health for the named components.
    struct Services {
        let directory: URL
        let servers: [String: RPCServer]
        let tasks: [Task<Void, any Error>]

        init(components: [String]) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-gw-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var servers = [String: RPCServer]()
            var tasks = [Task<Void, any Error>]()
            for component in components {
                var router = RPCRouter()
                router.register(HealthService(component: component, version: "test"))
                let server = RPCServer(
                    address: .unix(path: directory.appendingPathComponent("\(component).sock").path), router: router,
                    logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
                tasks.append(Task { try await server.run() })
                _ = try await server.listeningAddress()
                servers[component] = server
            }
            self.servers = servers
            self.tasks = tasks
        }

        func address(_ name: String) -> RPCAddress { .unix(path: directory.appendingPathComponent("\(name).sock").path) }

        func configuration() -> GatewayConfiguration {
            GatewayConfiguration(
                storage: address("storage"), tracking: address("tracking"),
                inference: [address("inference-0"), address("inference-1")],
                // Generous: these tests check what is reported, not how fast, and CI machines are loaded.
                healthTimeout: .seconds(15), version: "test")
        }

        func stop() async throws {
            for server in servers.values { server.shutdown() }
            for task in tasks { try await task.value }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    struct Report: Decodable {
        struct Service: Decodable {
            var name: String
            var status: String
            var component: String?
            var error: String?
        }
        var status: String
        var services: [Service]
    }

    @Test("/healthz is 200 with every service SERVING")
    func allHealthy() async throws {
        let services = try await Services(components: ["storage", "tracking", "inference-0", "inference-1"])
        let app = try Gateway.build(configuration: services.configuration(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report.status == "ok")
                #expect(report.services.map(\.name) == ["storage", "tracking", "inference-0", "inference-1"])
                #expect(report.services.allSatisfy { $0.status == "SERVING" })
                #expect(report.services.map(\.component) == ["storage", "tracking", "inference-0", "inference-1"])
            }
        }
        try await services.stop()
    }

    @Test("/healthz is 503 and names the service that is down")
    func oneDown() async throws {
        let services = try await Services(components: ["storage", "inference-0", "inference-1"])
        let app = try Gateway.build(configuration: services.configuration(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report.status == "degraded")
                let tracking = try #require(report.services.first { $0.name == "tracking" })
                #expect(tracking.status == "UNREACHABLE")
                #expect(tracking.error?.contains("UNAVAILABLE") == true)
                #expect(report.services.filter { $0.status == "SERVING" }.count == 3)
            }
        }
        try await services.stop()
    }

    @Test("/metrics counts requests by route, and unknown routes are JSON 404s")
    func metrics() async throws {
        let services = try await Services(components: ["storage", "tracking", "inference-0", "inference-1"])
        let app = try Gateway.build(configuration: services.configuration(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { _ in }
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: [String: Any]]
                #expect(body?["error"]?["status"] as? Int == 404)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"metis_http_requests_total{method="GET",route="/healthz",status="200"} 1"#))
                #expect(text.contains(#"metis_http_requests_total{method="GET",route="NotFound",status="404"} 1"#))
                #expect(text.contains("metis_http_request_duration_seconds"))
            }
        }
        try await services.stop()
    }
}
