import Foundation
import SwiftProtobuf

/// Answers `metis.v1.Health/Check` for a component. Every Metis server registers one.
public struct HealthService: Metis_V1_Health.ServiceProtocol {
    /// Reports whether the component can serve, with details for operators.
    public typealias Probe = @Sendable () async -> (serving: Bool, details: [String: String])

    public let component: String
    public let version: String
    private let started = ContinuousClock.now
    private let probe: Probe

    public init(component: String, version: String, probe: @escaping Probe = { (true, [:]) }) {
        self.component = component
        self.version = version
        self.probe = probe
    }

    public func check(
        request: Metis_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Metis_V1_HealthCheckResponse {
        guard request.service.isEmpty || request.service == component else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service)'; this is \(component)")
        }
        let (serving, details) = await probe()
        let uptime = started.duration(to: .now)
        return .with {
            $0.status = serving ? .serving : .notServing
            $0.component = component
            $0.version = version
            $0.processID = UInt32(ProcessInfo.processInfo.processIdentifier)
            $0.uptimeSeconds = Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18
            $0.details = details
        }
    }
}
