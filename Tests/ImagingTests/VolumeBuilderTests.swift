import DICOM
import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite("Series to volume")
struct VolumeBuilderTests {
    static func files(_ phantom: BrainPhantom, shuffle: Bool = false) throws -> [DICOMFile] {
        var files = try phantom.instances().map { try DICOMReader.read($0) }
        if shuffle {
            var generator = SeededGenerator(seed: 7)
            files.shuffle(using: &generator)
        }
        return files
    }

    static var oblique: BrainPhantom {
        var phantom = BrainPhantom()
        let angle = 20.0 * Double.pi / 180
        phantom.rowDirection = SIMD3(1, 0, 0)
        phantom.columnDirection = SIMD3(0, cos(angle), -sin(angle))
        return phantom
    }

    @Test("slices are sorted along the normal whatever the file order; geometry and rescale are kept")
    func axialShuffled() throws {
        let phantom = BrainPhantom()
        let volume = try VolumeBuilder.build(Self.files(phantom, shuffle: true))
        #expect(volume.slices == 60 && volume.columns == 96 && volume.rows == 96)
        #expect(volume.sources.map(\.sopInstanceUID) == (1...60).map { "\(phantom.series).\($0)" })
        #expect(volume.geometry.sliceLocations == volume.geometry.sliceLocations.sorted())
        // Voxel values are the rescaled ones, at the voxel's patient position.
        for (column, row, slice) in [(10, 20, 5), (48, 48, 30), (60, 30, 50)] {
            let expected = phantom.value(at: volume.geometry.position(column: Double(column), row: Double(row), slice: slice))
            #expect(abs(Double(volume[column, row, slice]) - expected) <= phantom.rescaleSlope)
        }
        #expect(volume.frameOfReferenceUID.hasPrefix("2.25."))
    }

    @Test(
        "oblique planes, non-square pixels, uneven spacing and descending slice order keep exact positions",
        arguments: [
            "oblique", "nonSquare", "uneven", "descending",
        ])
    func geometries(variant: String) throws {
        var phantom = variant == "oblique" ? Self.oblique : BrainPhantom()
        switch variant {
        case "nonSquare":
            phantom.rowSpacing = 1.5
            phantom.columnSpacing = 2.5
            phantom.columns = 80
            phantom.rows = 120
        case "uneven":
            var offsets = [0.0]
            for k in 1..<60 { offsets.append(offsets[k - 1] + (k % 2 == 0 ? 2.0 : 3.0)) }
            phantom.sliceOffsets = offsets
        case "descending":
            phantom.sliceOffsets = phantom.sliceOffsets.reversed()
        default: break
        }
        let volume = try VolumeBuilder.build(Self.files(phantom))
        let sorted = phantom.sliceOffsets.sorted()
        for (slice, offset) in sorted.enumerated() {
            for (column, row) in [(0, 0), (phantom.columns - 1, 0), (7, phantom.rows - 1)] {
                let expected = phantom.position(column: column, row: row, offset: offset)
                let actual = volume.geometry.position(column: Double(column), row: Double(row), slice: slice)
                #expect(simd_distance(expected, actual) < 1e-4, "\(variant) slice \(slice) pixel (\(column), \(row))")
            }
        }
        if variant == "uneven" {
            #expect(abs(volume.geometry.sliceThicknesses[1] - 2.5) < 1e-6)
        }
    }

    @Test("an enhanced multi-frame instance gives the same volume as single frames")
    func enhanced() throws {
        var phantom = Self.oblique
        phantom.sliceOffsets = phantom.sliceOffsets.reversed()
        let single = try VolumeBuilder.build(Self.files(phantom))
        let enhanced = try VolumeBuilder.build([DICOMReader.read(phantom.enhancedInstance())])
        #expect(enhanced.voxels == single.voxels)
        for slice in 0..<single.slices {
            #expect(simd_distance(enhanced.geometry.slicePositions[slice], single.geometry.slicePositions[slice]) < 1e-6)
        }
        #expect(enhanced.sources[0].frameNumber == 60)  // descending acquisition: the last frame is the lowest slice
    }

    @Test("what is not one volume is refused, saying why", arguments: ["localizer", "missing", "duplicate", "twoSeries"])
    func refusals(variant: String) throws {
        let phantom = BrainPhantom()
        var files = try Self.files(phantom)
        let expected: String
        switch variant {
        case "localizer":
            var localizer = Self.oblique
            localizer.sliceOffsets = [0]
            localizer.series = phantom.series
            var file = try DICOMReader.read(localizer.instances()[0])
            file.dataset[.sopInstanceUID] = DataElement.text(.sopInstanceUID, .UI, "2.25.999")
            files.append(file)
            expected = "another orientation"
        case "missing":
            files.removeSubrange(20..<23)
            expected = "slices are missing"
        case "duplicate":
            var copy = files[10]
            copy.dataset[.sopInstanceUID] = DataElement.text(.sopInstanceUID, .UI, "2.25.998")
            files.append(copy)
            expected = "same position"
        default:
            var other = files[0]
            other.dataset[.seriesInstanceUID] = DataElement.text(.seriesInstanceUID, .UI, "2.25.997")
            files.append(other)
            expected = "2 series"
        }
        #expect { _ = try VolumeBuilder.build(files) } throws: { error in
            (error as? ImagingError)?.kind == .notOneVolume && "\(error)".contains(expected)
        }
    }
}

func simd_distance(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
    let d = a - b
    return (d * d).sum().squareRoot()
}
