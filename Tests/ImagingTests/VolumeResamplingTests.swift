import Testing

@testable import Imaging

@Suite("One series brought onto another's grid through patient coordinates")
struct VolumeResamplingTests {
    /// A volume whose voxels hold a linear function of their patient position.
    static func volume(
        columns: Int, rows: Int, slices: Int, rowDirection: SIMD3<Double>, columnDirection: SIMD3<Double>, spacing: Double,
        gap: Double, origin: SIMD3<Double>, value: (SIMD3<Double>) -> Double
    ) -> Volume {
        let normal = SIMD3(
            rowDirection.y * columnDirection.z - rowDirection.z * columnDirection.y,
            rowDirection.z * columnDirection.x - rowDirection.x * columnDirection.z,
            rowDirection.x * columnDirection.y - rowDirection.y * columnDirection.x)
        let geometry = VolumeGeometry(
            columns: columns, rows: rows, rowDirection: rowDirection, columnDirection: columnDirection, rowSpacing: spacing,
            columnSpacing: spacing, slicePositions: (0..<slices).map { origin + Double($0) * gap * normal })
        var voxels = [Float]()
        for k in 0..<slices {
            for j in 0..<rows {
                for i in 0..<columns { voxels.append(Float(value(geometry.position(column: Double(i), row: Double(j), slice: k)))) }
            }
        }
        return Volume(geometry: geometry, voxels: voxels)
    }

    static func linear(_ p: SIMD3<Double>) -> Double { 500 + 3 * p.x - 2 * p.y + 1.5 * p.z }

    @Test("onto its own grid a volume is unchanged")
    func identity() {
        let v = Self.volume(
            columns: 7, rows: 6, slices: 5, rowDirection: SIMD3(1, 0, 0), columnDirection: SIMD3(0, 1, 0), spacing: 2, gap: 3,
            origin: SIMD3(-5, -4, 10), value: Self.linear)
        #expect(v.resampled(onto: v.geometry) == v.voxels)
    }

    @Test("a sagittal series onto an axial grid: a linear image is reproduced inside, and 0 where it was never imaged")
    func sagittalOntoAxial() {
        // Sagittal: columns along anterior→posterior (+y), rows head→feet (−z), so slices run along −x (from x 17 to −16); 2.4 mm pixels, 3 mm slices.
        let sagittal = Self.volume(
            columns: 20, rows: 20, slices: 12, rowDirection: SIMD3(0, 1, 0), columnDirection: SIMD3(0, 0, -1), spacing: 2.4, gap: 3,
            origin: SIMD3(17, -20, 30), value: Self.linear)
        // Axial reference, 2 mm, part of it outside the sagittal block (x beyond 17 mm, z below −15.6 mm).
        let axial = Self.volume(
            columns: 20, rows: 20, slices: 30, rowDirection: SIMD3(1, 0, 0), columnDirection: SIMD3(0, 1, 0), spacing: 2, gap: 2,
            origin: SIMD3(-14, -18, -28), value: { _ in 0 })
        let values = sagittal.resampled(onto: axial.geometry)
        var inside = 0, outside = 0
        for k in 0..<axial.slices {
            for j in 0..<axial.rows {
                for i in 0..<axial.columns {
                    let p = axial.geometry.position(column: Double(i), row: Double(j), slice: k)
                    let value = values[axial.index(column: i, row: j, slice: k)]
                    // The sagittal block spans x −16…17, y −20…25.6, z 30…−15.6 (sample centres).
                    if p.x >= -16, p.x <= 17, p.y >= -20, p.y <= 25.6, p.z <= 30, p.z >= -15.6 {
                        #expect(abs(Double(value) - Self.linear(p)) < 1e-3, "at \(p): \(value)")
                        inside += 1
                    } else if p.x > 18.5 || p.z < -17 {
                        #expect(value == 0, "at \(p), never imaged: \(value)")
                        outside += 1
                    }
                }
            }
        }
        #expect(inside > 1000 && outside > 1000, "inside \(inside), outside \(outside)")
    }
}
