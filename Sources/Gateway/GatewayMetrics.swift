import Hummingbird
import Prometheus

/// The gateway's Prometheus metrics, served at `/metrics`. Kept in the
/// gateway's own registry, not the process-global metrics system.
struct GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    func requestCompleted(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(name: "metis_http_requests_total", labels: labels).increment()
        registry.makeDurationHistogram(
            name: "metis_http_request_duration_seconds",
            labels: [("method", method), ("route", route)],
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500),
                .seconds(2), .seconds(10), .seconds(60),
            ]
        ).recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The text exposition format.
    func render() -> String { registry.emitToString() }
}

/// Counts every request and its duration by matched route (not raw path, so
/// UIDs in paths never become label values).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status.code, start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context: context, status: status, start: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        metrics.requestCompleted(method: request.method.rawValue, route: route, status: status, duration: start.duration(to: .now))
    }
}
