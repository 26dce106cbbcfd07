import Foundation

/// Which OpenBLAS kernels this CPU should run. Debian's OpenBLAS 0.3.21 does
/// not recognise recent CPUs (Intel family 6 model 207, for one) and falls
/// back to Prescott kernels, five times slower than the SkylakeX ones the CPU
/// can run. OpenBLAS reads `OPENBLAS_CORETYPE` when it loads, so the choice is
/// made before a worker starts: by `metis up` for the workers it runs, and by
/// a lone `metis inference`, which re-executes itself with the variable set.
public enum BLASCoreSelection {
    public static let environmentKey = "OPENBLAS_CORETYPE"

    /// The core type for a CPU with these feature flags (as /proc/cpuinfo names them); nil: let OpenBLAS decide.
    public static func recommended(flags: Set<String>) -> String? {
        if ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        if flags.contains("avx") { return "SandyBridge" }
        return nil
    }

    /// The feature flags of the first processor in /proc/cpuinfo text.
    public static func flags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// This machine's recommendation.
    public static func recommendedForThisMachine() -> String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return recommended(flags: flags(cpuinfo: cpuinfo))
    }

    /// `environment` with the core type added, unless the user already chose one.
    public static func workerEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        if environment[environmentKey] == nil, let core = recommendedForThisMachine() { environment[environmentKey] = core }
        return environment
    }
}
