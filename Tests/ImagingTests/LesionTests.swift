import DICOM
import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite("Components, measurements and contours")
struct LesionTests {
    /// The phantom's truth mask on the volume's grid, and the labelled components.
    static func truth(_ phantom: BrainPhantom) throws -> (Volume, labels: [Int32], count: Int) {
        let volume = try VolumeBuilder.build(phantom.instances().map { try DICOMReader.read($0) })
        let mask = volume.voxels.map { $0 >= 1400 }
        let (labels, count) = ConnectedComponents.label(mask, columns: volume.columns, rows: volume.rows, slices: volume.slices)
        return (volume, labels, count)
    }

    @Test("26-connectivity joins voxels that touch by a corner, and only those")
    func connectivity() {
        var mask = [Bool](repeating: false, count: 4 * 4 * 3)
        func set(_ x: Int, _ y: Int, _ z: Int) { mask[(z * 4 + y) * 4 + x] = true }
        set(0, 0, 0); set(1, 1, 1)  // corner contact: one component
        set(3, 3, 0)  // alone
        set(3, 0, 2); set(3, 1, 2)  // face contact
        let (labels, count) = ConnectedComponents.label(mask, columns: 4, rows: 4, slices: 3)
        #expect(count == 3)
        #expect(labels[0] == labels[(1 * 4 + 1) * 4 + 1])
        #expect(labels[(0 * 4 + 3) * 4 + 3] != labels[0])
    }

    @Test(
        "each phantom lesion is found once and measured: volume within 5 %, diameters within 1 mm + one voxel, centroid within a voxel",
        arguments: [
            "axial", "oblique", "nonSquare", "uneven",
        ])
    func measurements(variant: String) throws {
        var phantom = variant == "oblique" ? VolumeBuilderTests.oblique : BrainPhantom()
        switch variant {
        case "nonSquare":
            phantom.rowSpacing = 1.5
            phantom.columnSpacing = 2.0
            phantom.rows = 128
        case "uneven":
            var offsets = [0.0]
            for k in 1..<70 { offsets.append(offsets[k - 1] + (k % 2 == 0 ? 1.8 : 2.4)) }
            phantom.sliceOffsets = offsets
        default:
            phantom.rowSpacing = 1.5
            phantom.columnSpacing = 1.5
            phantom.columns = 128
            phantom.rows = 128
            phantom.sliceOffsets = (0..<100).map { Double($0) * 1.5 }
        }
        let (volume, labels, count) = try Self.truth(phantom)
        #expect(count == phantom.lesions.count)
        let voxel = max(phantom.rowSpacing, phantom.columnSpacing, volume.geometry.sliceThicknesses.max()!)
        for label in 1...Int32(count) {
            let measured = try #require(LesionMeasurement.measure(label: label, labels: labels, volume: volume))
            let lesion = try #require(
                phantom.lesions.min { simd_distance($0.center, measured.centroid) < simd_distance($1.center, measured.centroid) })
            let trueVolume = 4 / 3 * Double.pi * pow(lesion.radius, 3)
            // A sphere sampled on voxels is within 5 % of its volume once it spans about eight voxels.
            if lesion.radius >= 4 * voxel {
                #expect(abs(measured.volume - trueVolume) / trueVolume < 0.05, "\(variant): volume \(measured.volume) vs \(trueVolume)")
            }
            let voxelVolume = (labels.indices.filter { labels[$0] == label }).reduce(0.0) { sum, index in
                sum + volume.geometry.rowSpacing * volume.geometry.columnSpacing
                    * volume.geometry.sliceThicknesses[index / (volume.columns * volume.rows)]
            }
            #expect(abs(measured.volume - voxelVolume) < 1e-6)
            #expect(abs(measured.longestDiameter - 2 * lesion.radius) <= 1 + voxel, "\(variant): diameter \(measured.longestDiameter)")
            #expect(
                abs(measured.longestAxialDiameter - 2 * lesion.radius) <= 1 + voxel, "\(variant): axial \(measured.longestAxialDiameter)")
            #expect(measured.perpendicularDiameter <= measured.longestAxialDiameter + 1e-9)
            #expect(abs(measured.perpendicularDiameter - 2 * lesion.radius) <= 1 + 2 * voxel)
            #expect(simd_distance(measured.centroid, lesion.center) < voxel, "\(variant): centroid \(measured.centroid)")
            #expect(abs(measured.meanIntensity - 1500) < 5)
            #expect(measured.firstSlice <= measured.axialDiameterSlice && measured.axialDiameterSlice <= measured.lastSlice)
        }
    }

    @Test("contours follow pixel edges: a square, a hole, diagonal pixels apart, collinear corners merged")
    func tracing() {
        func polygons(_ rows: [String]) -> [ContourTracer.Polygon] {
            ContourTracer.trace(columns: rows[0].count, rows: rows.count) { x, y in Array(rows[y])[x] == "#" }
        }
        let single = polygons(["#"])
        #expect(single.count == 1 && single[0].corners.count == 4 && !single[0].isHole)
        let ring = polygons(["###", "#.#", "###"])
        #expect(ring.count == 2)
        #expect(ring.filter(\.isHole).count == 1)
        #expect(ring.allSatisfy { $0.corners.count == 4 })
        let diagonal = polygons(["#.", ".#"])
        #expect(diagonal.count == 2)
        let ell = polygons(["#..", "###"])
        #expect(ell.count == 1 && ell[0].corners.count == 6)
    }

    @Test("contours rasterised back (even-odd, pixel centres) give exactly the lesion mask, in the right place")
    func contoursRoundTrip() throws {
        var phantom = VolumeBuilderTests.oblique
        phantom.rowSpacing = 1.5
        phantom.columnSpacing = 2.0
        let (volume, labels, count) = try Self.truth(phantom)
        let geometry = volume.geometry
        for label in 1...Int32(count) {
            let contours = LesionContour.contours(label: label, labels: labels, geometry: geometry)
            #expect(contours.allSatisfy { $0.points.count >= 3 })
            for slice in Set(contours.map(\.slice)) {
                let onSlice = contours.filter { $0.slice == slice }
                // Back to pixel coordinates through the slice's own plane.
                let polygons = onSlice.map { contour in
                    contour.points.map { point -> SIMD2<Double> in
                        let d = point - geometry.slicePositions[slice]
                        #expect(abs(dot(d, geometry.normal)) < 1e-6, "contour point off its slice plane")
                        return SIMD2(
                            dot(d, geometry.rowDirection) / geometry.columnSpacing, dot(d, geometry.columnDirection) / geometry.rowSpacing)
                    }
                }
                for row in 0..<volume.rows {
                    for column in 0..<volume.columns {
                        let inside = polygons.reduce(false) { $0 != Self.contains($1, SIMD2(Double(column), Double(row))) }
                        let truth = labels[volume.index(column: column, row: row, slice: slice)] == label
                        #expect(inside == truth, "slice \(slice) pixel (\(column), \(row))")
                        if inside != truth { return }
                    }
                }
            }
        }
    }

    /// Even-odd point in polygon.
    static func contains(_ polygon: [SIMD2<Double>], _ p: SIMD2<Double>) -> Bool {
        var inside = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let a = polygon[i], b = polygon[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }
}
