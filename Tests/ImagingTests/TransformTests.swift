import DICOM
import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite("Reorientation, resampling, intensity scaling, cropping and their inverses")
struct TransformTests {
    /// A small grid whose values encode their indices.
    static func ramp(_ shape: SIMD3<Int> = SIMD3(5, 4, 3), spacing: SIMD3<Double> = SIMD3(1, 2, 3)) -> Grid {
        var values = [Float]()
        for k in 0..<shape.z { for j in 0..<shape.y { for i in 0..<shape.x { values.append(Float(i + 10 * j + 100 * k)) } } }
        return Grid(shape: shape, values: values, coordinates: (0..<3).map { axis in (0..<shape[axis]).map { Double($0) * spacing[axis] } })
    }

    @Test("an axial LPS grid to RAS flips the first two axes; the inverse gives the grid back exactly")
    func orientationRAS() throws {
        let grid = Self.ramp()
        let lps: [SIMD3<Double>] = [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
        let change = try Orientation.change(from: lps, to: "RAS", shape: grid.shape)
        #expect(change.permutation == [0, 1, 2])
        #expect(change.flipped == [true, true, false])
        let ras = change.apply(grid)
        #expect(ras[0, 0, 0] == grid[4, 3, 0])
        #expect(ras.coordinates[0] == [0, 1, 2, 3, 4])
        #expect(change.invert(ras, sourceCoordinates: grid.coordinates) == grid)
    }

    @Test("a sagittal grid is permuted to the named codes, and back", arguments: ["RAS", "LPS", "PLI", "SAR"])
    func orientationPermutes(codes: String) throws {
        let grid = Self.ramp(SIMD3(4, 5, 6))
        // Sagittal: rows run posterior→anterior, columns superior→inferior, slices left→right.
        let sagittal: [SIMD3<Double>] = [SIMD3(0, -1, 0), SIMD3(0, 0, -1), SIMD3(-1, 0, 0)]
        let change = try Orientation.change(from: sagittal, to: codes, shape: grid.shape)
        let oriented = change.apply(grid)
        #expect(oriented.values.sorted() == grid.values.sorted())
        #expect(change.invert(oriented, sourceCoordinates: grid.coordinates) == grid)
    }

    @Test("bad axis codes are refused")
    func badCodes() {
        #expect(throws: ImagingError.self) {
            _ = try Orientation.change(from: [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)], to: "RRS", shape: SIMD3(1, 1, 1))
        }
    }

    @Test("trilinear resampling of a linear ramp is exact; nearest keeps labels; back onto the source grid")
    func resampling() throws {
        let grid = Self.ramp(SIMD3(6, 5, 4), spacing: SIMD3(2, 2, 2))
        let fine = try Resampling.resample(grid, spacing: SIMD3(1, 1, 1), mode: .linear)
        #expect(fine.shape == SIMD3(11, 9, 7))
        #expect(abs(fine[3, 1, 5] - (1.5 + 10 * 0.5 + 100 * 2.5)) < 1e-4)
        let back = Resampling.onto(fine, coordinates: grid.coordinates, mode: .linear)
        #expect(zip(back.values, grid.values).allSatisfy { abs($0 - $1) < 1e-4 })
        var labels = grid
        labels.values = grid.values.map { $0 > 200 ? 2 : $0 > 50 ? 1 : 0 }
        let resampled = try Resampling.resample(labels, spacing: SIMD3(1, 1, 1), mode: .nearest)
        #expect(Set(resampled.values).isSubset(of: [0, 1, 2]))
        #expect(Resampling.onto(resampled, coordinates: labels.coordinates, mode: .nearest) == labels)
    }

    @Test("uneven slice positions are honoured when resampling")
    func unevenSlices() throws {
        let grid = Grid(shape: SIMD3(1, 1, 3), values: [0, 10, 40], coordinates: [[0], [0], [0, 1, 4]])
        let even = try Resampling.resample(grid, spacing: SIMD3(1, 1, 1), mode: .linear)
        #expect(even.values == [0, 10, 20, 30, 40])
    }

    @Test("intensity window scaling with clip, and its inverse inside the window")
    func scaling() {
        let scaling = IntensityScaling(aMin: -100, aMax: 300, bMin: 0, bMax: 1, clip: true)
        #expect(scaling.apply([-200, -100, 100, 300, 500]) == [0, 0, 0.5, 1, 1])
        #expect(scaling.invert(scaling.apply([-100, 0, 250])) == [-100, 0, 250])
    }

    @Test("foreground crop with margin, and padding back into the original grid")
    func crop() {
        var grid = Self.ramp(SIMD3(8, 7, 6))
        grid.values = grid.values.map { _ in 0 }
        grid[3, 2, 2] = 5
        grid[4, 4, 3] = 7
        let crop = ForegroundCrop.box(of: grid, threshold: 0, margin: 1)
        #expect(crop.start == SIMD3(2, 1, 1))
        #expect(crop.shape == SIMD3(4, 5, 4))
        let cropped = crop.apply(grid)
        #expect(cropped.values.filter { $0 > 0 }.sorted() == [5, 7])
        #expect(crop.invert(cropped, sourceCoordinates: grid.coordinates) == grid)
    }

    @Test("a phantom volume through orientation, spacing, scaling and crop, and back, keeps its lesion mask")
    func pipelineRoundTrip() throws {
        var phantom = BrainPhantom()
        phantom.rowSpacing = 1.5
        phantom.rows = 110
        let volume = try VolumeBuilder.build(phantom.instances().map { try DICOMReader.read($0) })
        let grid = volume.grid
        var labels = grid
        labels.values = grid.values.map { $0 >= 1400 ? 1 : 0 }
        let orientation = try Orientation.change(from: volume.axisDirections, to: "RAS", shape: grid.shape)
        let oriented = orientation.apply(labels)
        let spaced = try Resampling.resample(oriented, spacing: SIMD3(1.5, 1.5, 2.0), mode: .nearest)
        let crop = ForegroundCrop.box(of: spaced, margin: 2)
        let cropped = crop.apply(spaced)
        let restored = orientation.invert(
            Resampling.onto(crop.invert(cropped, sourceCoordinates: spaced.coordinates), coordinates: oriented.coordinates, mode: .nearest),
            sourceCoordinates: grid.coordinates)
        let agreement = zip(restored.values, labels.values).filter { $0 == $1 }.count
        #expect(Double(agreement) / Double(labels.values.count) > 0.999)
        let lesionVoxels = labels.values.filter { $0 > 0 }.count
        let kept = zip(restored.values, labels.values).filter { $0 > 0 && $1 > 0 }.count
        #expect(Double(kept) / Double(lesionVoxels) > 0.9)
    }

    @Test("NormalizeIntensity over non-zero samples leaves zeros alone; over all samples it does not")
    func normalisation() {
        // Non-zero samples 2, 4, 6: mean 4, biased deviation √(8/3).
        let values: [Float] = [0, 2, 4, 0, 6]
        let deviation = Float((8.0 / 3.0).squareRoot())
        let nonzero = IntensityNormalization(nonzero: true).apply(values)
        let expected: [Float] = [0, -2 / deviation, 0, 0, 2 / deviation]
        #expect(zip(nonzero, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        // All samples: mean 2.4, biased variance (5.76 + 0.16 + 2.56 + 5.76 + 12.96) / 5 = 5.44.
        let all = IntensityNormalization(nonzero: false).apply(values)
        #expect(abs(all[0] - Float(-2.4 / 5.44.squareRoot())) < 1e-6)
        // A constant image divides by 1 instead of 0.
        #expect(IntensityNormalization(nonzero: true).apply([0, 3, 3]) == [0, 0, 0])
    }

    @Test("nearest-neighbour ties go to the even sample, as PyTorch's grid sampling rounds")
    func nearestTies() {
        let grid = Grid(shape: SIMD3(4, 1, 1), values: [10, 11, 12, 13], coordinates: [[0, 1, 2, 3], [0], [0]])
        let sampled = Resampling.onto(grid, coordinates: [[0.5, 1.5, 2.5, 1.4, 1.6], [0], [0]], mode: .nearest)
        #expect(sampled.values == [10, 12, 12, 11, 12])
    }
}
