public import Foundation

/// Runs another program to completion — an independent reference (pydicom,
/// dcmtk, dicom3tools) or a Metis executable — and returns what it printed.
/// The one process runner of the test suites.
public enum ToolProcess {
    /// What becomes of the tool's standard error.
    public enum StandardError: Sendable {
        /// Interleaved with standard output (diagnostics in the failure message).
        case merged
        case discarded
        /// The test run's own standard error.
        case inherited
    }

    /// The exit status and standard output (with standard error when merged).
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    /// Runs `executable` (a path, or a name looked up on the PATH) and blocks the calling thread until it exits:
    /// only for synchronous contexts (trait conditions, static properties); an async test awaits `run` instead.
    public static func runBlocking(_ executable: String, _ arguments: [String], standardError: StandardError = .merged) throws -> Result {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        switch standardError {
        case .merged: process.standardError = pipe
        case .discarded: process.standardError = FileHandle.nullDevice
        case .inherited: break
        }
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: output)
    }

    /// The same, waited for on a thread of its own, never on one of the (two) threads that run the tests.
    public static func run(_ executable: String, _ arguments: [String], standardError: StandardError = .merged) async throws -> Result {
        try await onOwnThread { try runBlocking(executable, arguments, standardError: standardError) }
    }
}

/// Runs blocking work (a child process) on a new thread and awaits its result.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
