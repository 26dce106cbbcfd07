import Foundation
import Testing

@testable import InferenceService

@Suite("OpenBLAS kernels: choice and self-check")
struct BLASSelectionTests {
    @Test("the core type follows the CPU's features")
    func recommendation() {
        let skylake: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"]
        #expect(BLASCoreSelection.recommended(flags: skylake) == "SkylakeX")
        #expect(BLASCoreSelection.recommended(flags: ["avx", "avx2", "fma"]) == "Haswell")
        #expect(BLASCoreSelection.recommended(flags: ["avx"]) == "SandyBridge")
        #expect(BLASCoreSelection.recommended(flags: ["sse2"]) == nil)
        #expect(BLASCoreSelection.recommended(flags: ["avx512f", "avx2"]) == nil)  // neither set complete, no plain avx
    }

    @Test("flags come from /proc/cpuinfo's first flags line")
    func cpuinfo() {
        let text =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx avx2 fma\nbugs\t\t: spectre\nprocessor\t: 1\nflags\t\t: fpu\n"
        #expect(BLASCoreSelection.flags(cpuinfo: text) == ["fpu", "sse2", "avx", "avx2", "fma"])
    }

    @Test("a core type the user set is kept")
    func userChoiceKept() {
        #expect(BLASCoreSelection.workerEnvironment(["OPENBLAS_CORETYPE": "Prescott"])["OPENBLAS_CORETYPE"] == "Prescott")
    }

    @Test("the loaded kernels pass the self-check against a plain reference")
    func selfCheck() throws {
        #expect(try BLASSelfCheck.run() < 1e-5)
    }
}
