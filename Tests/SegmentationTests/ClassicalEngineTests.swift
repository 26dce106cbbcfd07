import DICOM
import Foundation
import Imaging
import StructureSet
import TestSupport
import Testing

@testable import Segmentation

@Suite("Classical engine and the segmentation pipeline")
struct ClassicalEngineTests {
    static func phantom(_ variant: String) -> BrainPhantom {
        var phantom = BrainPhantom()
        switch variant {
        case "oblique":
            let angle = 20.0 * Double.pi / 180
            phantom.columnDirection = SIMD3(0, cos(angle), -sin(angle))
        case "nonSquare":
            phantom.rowSpacing = 1.5
            phantom.rows = 128
        case "uneven":
            var offsets = [0.0]
            for k in 1..<64 { offsets.append(offsets[k - 1] + (k % 2 == 0 ? 2.0 : 2.8)) }
            phantom.sliceOffsets = offsets
        case "descending":
            phantom.sliceOffsets = phantom.sliceOffsets.reversed()
        default: break
        }
        return phantom
    }

    @Test(
        "finds every phantom lesion with Dice ≥ 0.9 against the truth, whatever the geometry",
        arguments: [
            "axial", "oblique", "nonSquare", "uneven", "descending", "enhanced",
        ])
    func dice(variant: String) throws {
        let phantom = Self.phantom(variant == "enhanced" ? "oblique" : variant)
        let files =
            variant == "enhanced"
            ? [try DICOMReader.read(phantom.enhancedInstance())] : try phantom.instances().map { try DICOMReader.read($0) }
        let result = try SegmentationPipeline(engine: ClassicalEngine(), softwareVersion: "test").run(files)
        #expect(result.lesions.count == phantom.lesions.count, "\(variant): \(result.lesions.count) lesions")
        // Truth on the volume's grid.
        let volume = try VolumeBuilder.build(files)
        var truth = [Bool]()
        for slice in 0..<volume.slices {
            for row in 0..<volume.rows {
                for column in 0..<volume.columns {
                    truth.append(
                        phantom.lesion(at: volume.geometry.position(column: Double(column), row: Double(row), slice: slice)) != nil)
                }
            }
        }
        let mask = try ClassicalEngine().segment(volume) { _ in }
        let overlap = zip(mask, truth).filter { $0 && $1 }.count
        let dice = 2 * Double(overlap) / Double(mask.filter { $0 }.count + truth.filter { $0 }.count)
        #expect(dice >= 0.9, "\(variant): Dice \(dice)")
        for lesion in phantom.lesions {
            let found = try #require(
                result.lesions.min {
                    simd_length($0.measurement.centroid - lesion.center) < simd_length($1.measurement.centroid - lesion.center)
                })
            let voxel = max(phantom.rowSpacing, phantom.columnSpacing, volume.geometry.sliceThicknesses.max()!)
            #expect(simd_length(found.measurement.centroid - lesion.center) < voxel)
            #expect(abs(found.measurement.longestDiameter - 2 * lesion.radius) <= 1 + voxel)
            // The found volume against the truth sampled on the same grid (the sphere's own volume is within
            // 5 % of that once it spans about eight voxels: LesionTests).
            let truthVolume = truth.indices.filter {
                truth[$0]
                    && phantom.lesion(
                        at: volume.geometry.position(
                            column: Double($0 % volume.columns), row: Double(($0 / volume.columns) % volume.rows),
                            slice: $0 / (volume.columns * volume.rows)))
                        == phantom.lesions.firstIndex { $0.center == lesion.center }.map { $0 + 1 }
            }.reduce(0.0) { sum, index in
                sum + volume.geometry.rowSpacing * volume.geometry.columnSpacing
                    * volume.geometry.sliceThicknesses[index / (volume.columns * volume.rows)]
            }
            #expect(
                abs(found.measurement.volume - truthVolume) / truthVolume < 0.05,
                "\(variant): volume \(found.measurement.volume) vs \(truthVolume)")
        }
        #expect(result.output != nil)
        #expect(result.timings.map(\.stage) == ["volume", "engine", "intracranial", "lesions", "contours", "encode"])
    }

    @Test("a brain without lesions gives no lesion and no RTSTRUCT")
    func noLesion() throws {
        var phantom = BrainPhantom()
        phantom.lesions = []
        let result = try SegmentationPipeline(engine: ClassicalEngine(), softwareVersion: "test").run(
            phantom.instances().map { try DICOMReader.read($0) })
        #expect(result.lesions.isEmpty)
        #expect(result.output == nil)
    }

    @Test("lesions below the minimum volume are dropped")
    func minimumVolume() throws {
        var phantom = BrainPhantom()
        phantom.lesions = [.init(center: SIMD3(0, 0, 75), radius: 10), .init(center: SIMD3(30, 30, 60), radius: 1.2)]
        var engine = ClassicalEngine()
        engine.minimumVolume = 50
        let volume = try VolumeBuilder.build(phantom.instances().map { try DICOMReader.read($0) })
        let mask = try engine.segment(volume) { _ in }
        let (_, count) = ConnectedComponents.label(mask, columns: volume.columns, rows: volume.rows, slices: volume.slices)
        #expect(count == 1)
    }
}

func simd_length(_ v: SIMD3<Double>) -> Double { (v * v).sum().squareRoot() }
