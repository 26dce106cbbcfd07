import Foundation

/// Whether this machine's `python3` can import Python modules that a test
/// drives as an independent reference (pydicom, selenium, …).
public enum PythonModules {
    /// True when `import` of every one of `modules` succeeds in `interpreter`
    /// (by default the first `python3` on the PATH; a test that runs a
    /// script with a given interpreter asks that one).
    public static func available(_ modules: String..., interpreter: String = "python3") -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, "-c", "import " + modules.joined(separator: ", ")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
