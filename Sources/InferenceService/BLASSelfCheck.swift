import CBLAS
import Foundation

/// A start-up check of the loaded OpenBLAS kernels: a small single-precision
/// product against a plain double-precision reference. A wrong kernel must
/// never silently give wrong masks, so a worker that fails it does not start.
enum BLASSelfCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Largest error relative to the largest reference value; throws above `tolerance`.
    @discardableResult
    static func run(tolerance: Double = 1e-4) throws -> Double {
        // Odd sizes, so that edge kernels run too.
        let m = 37, n = 29, k = 71
        let a = (0..<m * k).map { Float(sin(Double($0) * 0.37) * 2) }
        let b = (0..<k * n).map { Float(cos(Double($0) * 0.11) - 0.3) }
        var c = [Float](repeating: 0, count: m * n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        var largest = 0.0, worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var reference = 0.0
                for p in 0..<k { reference += Double(a[i * k + p]) * Double(b[p * n + j]) }
                largest = max(largest, abs(reference))
                worst = max(worst, abs(reference - Double(c[i * n + j])))
            }
        }
        let error = worst / max(largest, 1e-30)
        guard error <= tolerance else {
            throw Failure(
                description:
                    "OpenBLAS self-check failed: sgemm differs from the reference by \(error) (relative); its kernels give wrong results on this CPU"
            )
        }
        return error
    }
}
