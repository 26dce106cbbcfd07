import Foundation
import MetisProcess
import Logging
import MetisProto
import MetisRPC
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import ServiceLifecycle
import Synchronization

/// Starts every Metis process, waits until each is healthy, restarts any that
/// dies (with back-off), and stops them all on graceful shutdown. Startup fails
/// (and `run()` throws) when a service cannot become healthy.
final class Supervisor: Service, Sendable {
    /// One supervised process.
    struct ChildSpec: Sendable {
        enum Readiness: Sendable {
            /// `Health/Check` answers SERVING.
            case rpc(RPCAddress)
            /// `GET url` answers, from this very process (its `pid` field), so
            /// that another program on the port is never taken for the gateway.
            case http(url: String)
        }
        var name: String
        var arguments: [String]
        var readiness: Readiness
        /// Variables added to the child's environment.
        var environment: [String: String] = [:]
    }

    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    private let executable: URL
    private let services: [ChildSpec]
    private let gateway: ChildSpec
    private let logger: Logger
    private let startupTimeout: Duration
    private let backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(30))
    private let onReady: @Sendable () -> Void
    private let running = Mutex([String: ChildProcess]())
    private let stopping = Atomic<Bool>(false)

    init(
        executable: URL,
        services: [ChildSpec],
        gateway: ChildSpec,
        startupTimeout: Duration = .seconds(60),
        logger: Logger,
        onReady: @escaping @Sendable () -> Void
    ) {
        self.executable = executable
        self.services = services
        self.gateway = gateway
        self.startupTimeout = startupTimeout
        self.logger = logger
        self.onReady = onReady
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            do {
                try await startAll()
            } catch {
                await stopAll()
                throw error
            }
            if stopping.load(ordering: .relaxed) {
                await stopAll()
                return
            }
            onReady()
            await withTaskGroup(of: Void.self) { group in
                for spec in services + [gateway] {
                    group.addTask { await self.supervise(spec) }
                }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            Task { await self.stopAll() }
        }
    }

    // MARK: Startup

    private func startAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for spec in services {
                let child = try spawn(spec)
                group.addTask { try await self.waitUntilReady(spec, child: child) }
            }
            try await group.waitForAll()
        }
        let child = try spawn(gateway)
        try await waitUntilReady(gateway, child: child)
    }

    private func waitUntilReady(_ spec: ChildSpec, child: ChildProcess) async throws {
        let deadline = ContinuousClock.now + startupTimeout
        var lastError = "no answer yet"
        while ContinuousClock.now < deadline {
            if stopping.load(ordering: .relaxed) { return }
            if child.hasExited {
                let status = await child.waitForExit()
                throw StartupError(description: "\(spec.name) exited with status \(status) during startup (see its log above)")
            }
            do {
                try await probe(spec.readiness, pid: child.pid)
                logger.info("\(spec.name) is ready", metadata: ["pid": "\(child.pid)"])
                return
            } catch {
                lastError = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StartupError(description: "\(spec.name) did not become healthy within \(startupTimeout): \(lastError)")
    }

    private func probe(_ readiness: ChildSpec.Readiness, pid: Int32) async throws {
        switch readiness {
        case .rpc(let address):
            let connection = RPCConnection(address: address, logger: logger)
            defer { Task { await connection.close() } }
            let response = try await Metis_V1_Health.Client(connection).check(options: CallOptions(timeout: .seconds(1)))
            guard response.status == .serving else {
                throw StartupError(description: "\(response.component) reports \(response.status): \(response.details)")
            }
        case .http(let url):
            let location = URL(string: url)!
            let body: Data
            if location.scheme == "https" {
                body = try await HTTPSProbe.get(host: location.host ?? "127.0.0.1", port: location.port ?? 443, path: location.path)
            } else {
                var request = URLRequest(url: location)
                request.timeoutInterval = 2
                body = try await URLSession.shared.data(for: request).0
            }
            struct Identity: Decodable { var pid: Int32 }
            let identity = try JSONDecoder().decode(Identity.self, from: body)
            guard identity.pid == pid else {
                throw StartupError(description: "\(url) is answered by process \(identity.pid), not by the gateway started (\(pid))")
            }
        }
    }

    // MARK: Supervision

    /// Starts `spec`'s process, unless shutdown has begun. Under the same lock
    /// as `stopAll`'s snapshot, so no process starts after it and escapes it.
    private func spawn(_ spec: ChildSpec) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        environment[ProcessRunner.supervisorEnvironmentKey] = String(getpid())
        for (key, value) in spec.environment { environment[key] = value }
        let child = try running.withLock { running throws -> ChildProcess in
            guard !stopping.load(ordering: .relaxed) else {
                throw StartupError(description: "not starting \(spec.name): shutting down")
            }
            let child = try ChildProcess(name: spec.name, executable: executable, arguments: spec.arguments, environment: environment)
            running[spec.name] = child
            return child
        }
        logger.info("started \(spec.name)", metadata: ["pid": "\(child.pid)"])
        return child
    }

    /// Restarts `spec` whenever it exits, until shutdown.
    private func supervise(_ spec: ChildSpec) async {
        var delay: Duration?
        while !stopping.load(ordering: .relaxed) {
            guard let child = running.withLock({ $0[spec.name] }) else { return }
            let started = ContinuousClock.now
            let status = await child.waitForExit()
            if stopping.load(ordering: .relaxed) { return }
            if started.duration(to: .now) > .seconds(60) { delay = nil }
            delay = backoff.delay(after: delay)
            logger.error("\(spec.name) exited with status \(status); restarting in \(delay!)", metadata: ["pid": "\(child.pid)"])
            try? await Task.sleep(for: delay!)
            if stopping.load(ordering: .relaxed) { return }
            do {
                _ = try spawn(spec)
            } catch {
                if stopping.load(ordering: .relaxed) { return }
                logger.error("cannot restart \(spec.name): \(error)")
            }
        }
    }

    /// Stops the gateway first, then the services, each with SIGTERM then SIGKILL.
    private func stopAll() async {
        let children = running.withLock { running in
            stopping.store(true, ordering: .relaxed)
            return running
        }
        if let gateway = children[gateway.name] { await gateway.stop(grace: .seconds(15)) }
        await withTaskGroup(of: Void.self) { group in
            for (name, child) in children where name != gateway.name {
                group.addTask { await child.stop(grace: .seconds(15)) }
            }
        }
    }
}
