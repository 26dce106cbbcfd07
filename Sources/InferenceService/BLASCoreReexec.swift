import Foundation

/// A process that runs the network without `metis up` choosing its kernels —
/// a lone `metis inference` (systemd, a container), `metis segment`, `metis
/// model run` — started without `OPENBLAS_CORETYPE` re-executes itself once
/// with the core type this CPU should run, since OpenBLAS reads the variable
/// only when it loads.
public enum BLASCoreReexec {
    static let markerKey = "METIS_BLAS_CORE_CHOSEN"

    public static func ensureCoreType() {
        let environment = ProcessInfo.processInfo.environment
        guard environment[BLASCoreSelection.environmentKey] == nil, environment[markerKey] == nil,
            let core = BLASCoreSelection.recommendedForThisMachine()
        else { return }
        setenv(BLASCoreSelection.environmentKey, core, 1)
        setenv(markerKey, "1", 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // Only reached if exec failed: carry on with the kernels OpenBLAS chose.
    }
}
