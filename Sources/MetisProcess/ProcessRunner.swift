import CMalloc
import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals

/// Runs a process's services in one `ServiceGroup` with graceful shutdown on
/// SIGTERM and SIGINT; under `metis up`, also stops when the supervisor dies.
public enum ProcessRunner {
    /// Makes glibc serve every allocation of 1 MiB or more with its own mapping,
    /// unmapped when freed. glibc's default raises that threshold after the first
    /// large free, so the whole series and instances the gateway and storage move
    /// (tens of MB each) then come from per-thread heaps that keep them: the
    /// gateway grew ~15 MB per segmentation without it, and stays flat with it.
    public static func returnLargeBuffersToTheSystem() {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
    }

    /// For the neural engine: every allocation comes from the heap and a freed
    /// one stays there for the next layer. glibc otherwise maps each
    /// activation of 32 MiB or more (a 96³ volume of 16 channels is 56 MiB)
    /// on its own, and the kernel zeroes its pages again for every layer: a
    /// 96³ forward pass took 16 % longer. An inference worker gives the heap
    /// back after each job (malloc_trim).
    public static func keepLargeBuffersForReuse() {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        // One heap for every thread: memory a convolution's worker threads
        // freed is then there for the next layer, whichever thread asks.
        _ = mallopt(M_ARENA_MAX, 1)
    }

    /// Sends logs to standard error at `level`; once per process.
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The environment variable through which `metis up` tells its children its process ID.
    public static var supervisorEnvironmentKey: String { SupervisorWatchdog.environmentKey }

    public static func run(_ services: [any Service], logger: Logger) async throws {
        var configurations = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        var signals: [UnixSignal] = [.sigterm, .sigint]
        if let supervisor = ProcessInfo.processInfo.environment[SupervisorWatchdog.environmentKey].flatMap(Int32.init) {
            configurations.append(
                .init(
                    service: SupervisorWatchdog(supervisorPID: supervisor, logger: logger),
                    successTerminationBehavior: .gracefullyShutdownGroup)
            )
            // Ctrl-C in a terminal reaches the whole process group: under `metis up`
            // only the supervisor reacts, and stops its services in order.
            signal(SIGINT, SIG_IGN)
            signals = [.sigterm]
        }
        let group = ServiceGroup(
            configuration: .init(services: configurations, gracefulShutdownSignals: signals, logger: logger)
        )
        try await group.run()
    }
}

/// Ends the process gracefully when the `metis up` that started it is gone,
/// so that a killed supervisor leaves no orphan services behind.
struct SupervisorWatchdog: Service {
    static let environmentKey = "METIS_SUPERVISOR_PID"

    let supervisorPID: Int32
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if getppid() != supervisorPID {
                logger.warning("supervisor \(supervisorPID) is gone; shutting down")
                return
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
