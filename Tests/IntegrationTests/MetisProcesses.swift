import Foundation
import TestSupport
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Finds and runs the built Metis executables for multi-process tests.
enum MetisProcesses {
    /// The build's bin directory: where the test bundle itself lives, or `METIS_BIN_DIR`.
    static var binDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["METIS_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // Inside MetisPackageTests.xctest/ on some layouts.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("metis").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory
    }

    static func executable(_ name: String) -> URL { binDirectory.appendingPathComponent(name) }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a command to completion; returns its exit status and standard output
    /// (with standard error too when `includingErrors`). The waiting happens on
    /// a thread of its own, never on one of the (two) threads that run the tests.
    static func run(_ executable: URL, _ arguments: [String], includingErrors: Bool = false) async throws -> (status: Int32, output: String)
    {
        let result = try await ToolProcess.run(executable.path, arguments, standardError: includingErrors ? .merged : .inherited)
        return (result.status, result.text)
    }

    /// Waits for `process` to exit without blocking a test thread.
    static func waitForExit(_ process: Process) async {
        let box = UncheckedBox(process)
        _ = try? await onOwnThread { box.value.waitUntilExit() }
    }

    /// GET `url`; nil when nothing answers.
    static func get(_ url: String) async -> (status: Int, body: Data)? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, data)
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    /// The `/healthz` report at `url`, if the gateway answers.
    static func health(_ url: String) async -> HealthzReport? {
        guard let (_, body) = await get(url) else { return nil }
        return try? JSONDecoder().decode(HealthzReport.self, from: body)
    }

    /// Polls `/healthz` until every service serves.
    static func waitForHealthy(_ url: String, timeout: Duration) async -> HealthzReport? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let report = await health(url), report.status == "ok" { return report }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}

/// The parts of `/healthz` the tests read.
struct HealthzReport: Decodable {
    struct Service: Decodable {
        var name: String
        var status: String
        var pid: UInt32?
        var address: String
        var details: [String: String]?
    }
    var status: String
    var pid: Int32
    var services: [Service]
}

/// Carries a non-Sendable value (a `Process`) to the thread that waits on it.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
