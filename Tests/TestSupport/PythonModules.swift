import Foundation

/// Whether this machine's `python3` can import Python modules that a test
/// drives as an independent reference (pydicom, selenium, …).
public enum PythonModules {
    /// True when `import` of every one of `modules` succeeds in `interpreter`
    /// (by default the first `python3` on the PATH; a test that runs a
    /// script with a given interpreter asks that one).
    public static func available(_ modules: String..., interpreter: String = "python3") -> Bool {
        let result: ToolProcess.Result? = try? ToolProcess.runBlocking(
            interpreter, ["-c", "import " + modules.joined(separator: ", ")], standardError: .discarded)
        return result?.status == 0
    }
}
