import CBLAS

/// What the loaded OpenBLAS reports about itself: the kernel set it picked for
/// this CPU, its thread count and its build configuration.
struct BLASRuntime: Sendable {
    let coreName: String
    let threads: Int
    let buildConfiguration: String

    static func current() -> BLASRuntime {
        BLASRuntime(
            coreName: String(cString: openblas_get_corename()),
            threads: Int(openblas_get_num_threads()),
            buildConfiguration: String(cString: openblas_get_config())
        )
    }
}
