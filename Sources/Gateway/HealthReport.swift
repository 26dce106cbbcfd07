import Foundation
import Hummingbird
import MetisRPC

/// The body of `GET /healthz`: the gateway and each service instance.
struct HealthReport: ResponseEncodable, Sendable {
    struct ServiceHealth: Codable, Sendable {
        var name: String
        var address: String
        /// SERVING, NOT_SERVING, or UNREACHABLE when the call failed.
        var status: String
        var component: String?
        var version: String?
        var pid: UInt32?
        var uptimeSeconds: Double?
        var latencyMilliseconds: Double?
        var details: [String: String]?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case name, address, status, component, version, pid, details, error
            case uptimeSeconds = "uptime_seconds"
            case latencyMilliseconds = "latency_ms"
        }
    }

    /// "ok" when every service serves, else "degraded".
    var status: String
    var gateway: String
    var version: String
    /// The gateway's own process id.
    var pid: Int32
    var services: [ServiceHealth]
    /// The DIMSE edge, when it runs: where it listens and its open associations.
    var dimse: DIMSEHealth?

    struct DIMSEHealth: Codable, Sendable {
        /// LISTENING, or NOT_LISTENING before the port is bound.
        var status: String
        var address: String
        /// Where DICOM over TLS listens, when it does.
        var tlsAddress: String?
        var associations: Int
    }

    var allServing: Bool { services.allSatisfy { $0.status == "SERVING" } }
}

extension HealthReport {
    /// Asks every service instance for its health, all at once.
    static func collect(clients: ServiceClients, timeout: Duration, version: String) async -> HealthReport {
        let services = await withTaskGroup(of: (Int, ServiceHealth).self) { group in
            for (index, endpoint) in clients.endpoints.enumerated() {
                group.addTask { (index, await check(endpoint, timeout: timeout)) }
            }
            var results = [(Int, ServiceHealth)]()
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var report = HealthReport(
            status: "ok", gateway: "metis-gateway", version: version, pid: ProcessInfo.processInfo.processIdentifier, services: services)
        if !report.allServing { report.status = "degraded" }
        return report
    }

    private static func check(_ endpoint: ServiceClients.Endpoint, timeout: Duration) async -> ServiceHealth {
        var health = ServiceHealth(name: endpoint.name, address: "\(endpoint.connection.address)", status: "UNREACHABLE")
        let start = ContinuousClock.now
        do {
            let response = try await Metis_V1_Health.Client(endpoint.connection).check(options: CallOptions(timeout: timeout))
            let latency = start.duration(to: .now)
            health.status = response.status == .serving ? "SERVING" : "NOT_SERVING"
            health.component = response.component
            health.version = response.version
            health.pid = response.processID
            health.uptimeSeconds = response.uptimeSeconds
            health.latencyMilliseconds = Double(latency.components.attoseconds) / 1e15 + Double(latency.components.seconds) * 1000
            health.details = response.details.isEmpty ? nil : response.details
        } catch let error as RPCError {
            health.error = error.description
        } catch {
            health.error = "\(error)"
        }
        return health
    }
}
