public import DICOM
import Foundation

/// Builds a `Volume` from the instances of one image series: checks that
/// they are one volume (one series, one orientation, one matrix size, no
/// duplicate or missing slice), sorts slices along the normal, applies the
/// modality rescale. An enhanced multi-frame instance gives a volume from its
/// per-frame functional groups.
public enum VolumeBuilder {
    /// Direction cosines that differ by more than this are different orientations.
    static let orientationTolerance = 1e-4

    /// One image plane before sorting.
    private struct Plane {
        var position: SIMD3<Double>
        var rowDirection: SIMD3<Double>
        var columnDirection: SIMD3<Double>
        var rowSpacing: Double
        var columnSpacing: Double
        var slope: Double
        var intercept: Double
        var pixels: PixelData
        var frame: Int
        var source: Volume.SliceSource
    }

    public static func build(_ files: [DICOMFile]) throws(ImagingError) -> Volume {
        guard let first = files.first else { throw ImagingError(.notOneVolume, "no instance given") }
        let series = Set(files.compactMap { $0.dataset.string(.seriesInstanceUID) })
        guard series.count == 1 else {
            throw ImagingError(
                .notOneVolume,
                "the instances belong to \(series.count) series (\(series.sorted().joined(separator: ", "))); a volume is one series")
        }
        var planes = [Plane]()
        for file in files {
            planes += try Self.planes(of: file)
        }
        let reference = planes[0]
        // One orientation: a localizer or a second stack is refused, naming what differs.
        let outliers = planes.filter {
            length($0.rowDirection - reference.rowDirection) > orientationTolerance
                || length($0.columnDirection - reference.columnDirection) > orientationTolerance
        }
        guard outliers.isEmpty else {
            throw ImagingError(
                .notOneVolume,
                "\(outliers.count) of \(planes.count) images have another orientation than \(format(reference.rowDirection))/\(format(reference.columnDirection)) "
                    + "(a localizer or a second stack?): e.g. \(outliers[0].source.sopInstanceUID)")
        }
        let size = (reference.pixels.columns, reference.pixels.rows)
        if let other = planes.first(where: { ($0.pixels.columns, $0.pixels.rows) != size }) {
            throw ImagingError(
                .notOneVolume,
                "image \(other.source.sopInstanceUID) is \(other.pixels.columns)×\(other.pixels.rows), the others \(size.0)×\(size.1)")
        }
        if let other = planes.first(where: {
            abs($0.rowSpacing - reference.rowSpacing) > 1e-3 || abs($0.columnSpacing - reference.columnSpacing) > 1e-3
        }) {
            throw ImagingError(.notOneVolume, "image \(other.source.sopInstanceUID) has another pixel spacing")
        }
        let normal = cross(reference.rowDirection, reference.columnDirection)
        planes.sort { dot($0.position, normal) < dot($1.position, normal) }
        let locations = planes.map { dot($0.position, normal) }
        var gaps = [Double]()
        for k in 1..<max(1, locations.count) {
            let gap = locations[k] - locations[k - 1]
            guard gap > 1e-3 else {
                throw ImagingError(
                    .notOneVolume,
                    "images \(planes[k - 1].source.sopInstanceUID) and \(planes[k].source.sopInstanceUID) are at the same position \(String(format: "%.3f", locations[k])) mm"
                )
            }
            gaps.append(gap)
        }
        if gaps.count >= 2 {
            let median = gaps.sorted()[gaps.count / 2]
            if let k = gaps.firstIndex(where: { $0 > 2.5 * median }) {
                throw ImagingError(
                    .notOneVolume,
                    "a gap of \(String(format: "%.2f", gaps[k])) mm between slices at \(String(format: "%.2f", locations[k])) and \(String(format: "%.2f", locations[k + 1])) mm, "
                        + "where slices are \(String(format: "%.2f", median)) mm apart: slices are missing")
            }
        }
        let geometry = VolumeGeometry(
            columns: size.0, rows: size.1, rowDirection: reference.rowDirection, columnDirection: reference.columnDirection,
            rowSpacing: reference.rowSpacing, columnSpacing: reference.columnSpacing, slicePositions: planes.map(\.position))
        var voxels = [Float]()
        voxels.reserveCapacity(size.0 * size.1 * planes.count)
        for plane in planes {
            let values: [Double]
            do {
                values = try plane.pixels.frameValues(plane.frame)
            } catch {
                throw ImagingError(.pixelData, "image \(plane.source.sopInstanceUID): \(error)")
            }
            for value in values { voxels.append(Float(value * plane.slope + plane.intercept)) }
        }
        return Volume(
            geometry: geometry, voxels: voxels, studyInstanceUID: first.dataset.string(.studyInstanceUID) ?? "",
            seriesInstanceUID: series.first!, frameOfReferenceUID: first.dataset.string(.frameOfReferenceUID) ?? "",
            sources: planes.map(\.source))
    }

    /// The planes of one instance: one for a single-frame image, one per frame for enhanced multi-frame.
    private static func planes(of file: DICOMFile) throws(ImagingError) -> [Plane] {
        let dataset = file.dataset
        let sop = dataset.string(.sopInstanceUID) ?? "?"
        let sopClass = dataset.string(.sopClassUID) ?? ""
        let pixels: PixelData
        do {
            pixels = try PixelData(dataset, transferSyntax: file.transferSyntax)
        } catch {
            throw ImagingError(.pixelData, "image \(sop): \(error)")
        }
        guard pixels.samplesPerPixel == 1 else {
            throw ImagingError(.pixelData, "image \(sop) has \(pixels.samplesPerPixel) samples per pixel; a volume is grayscale")
        }
        let shared = dataset.items(.sharedFunctionalGroupsSequence)?.first
        if let perFrame = dataset.items(.perFrameFunctionalGroupsSequence), !perFrame.isEmpty {
            guard perFrame.count == pixels.numberOfFrames else {
                throw ImagingError(
                    .missingGeometry, "image \(sop) has \(pixels.numberOfFrames) frames but \(perFrame.count) per-frame functional groups")
            }
            return try perFrame.enumerated().map { (index, groups) throws(ImagingError) in
                func group(_ tag: Tag) -> Dataset? { groups.items(tag)?.first ?? shared?.items(tag)?.first }
                guard let position = group(Tag.planePositionSequence).flatMap({ vector($0, Tag.imagePositionPatient, count: 3) }) else {
                    throw ImagingError(.missingGeometry, "frame \(index + 1) of \(sop) has no Plane Position (ImagePositionPatient)")
                }
                guard let orientation = group(Tag.planeOrientationSequence).flatMap({ vector($0, Tag.imageOrientationPatient, count: 6) })
                else {
                    throw ImagingError(.missingGeometry, "frame \(index + 1) of \(sop) has no Plane Orientation (ImageOrientationPatient)")
                }
                guard let spacing = group(Tag.pixelMeasuresSequence).flatMap({ vector($0, Tag.pixelSpacing, count: 2) }),
                    spacing.allSatisfy({ $0 > 0 })
                else {
                    throw ImagingError(.missingGeometry, "frame \(index + 1) of \(sop) has no Pixel Measures (PixelSpacing)")
                }
                let transformation = group(Tag.pixelValueTransformationSequence)
                return Plane(
                    position: SIMD3(position[0], position[1], position[2]),
                    rowDirection: unit(SIMD3(orientation[0], orientation[1], orientation[2])),
                    columnDirection: unit(SIMD3(orientation[3], orientation[4], orientation[5])),
                    rowSpacing: spacing[0], columnSpacing: spacing[1],
                    slope: transformation?.double(.rescaleSlope) ?? 1, intercept: transformation?.double(.rescaleIntercept) ?? 0,
                    pixels: pixels, frame: index, source: .init(sopClassUID: sopClass, sopInstanceUID: sop, frameNumber: index + 1))
            }
        }
        guard let position = vector(dataset, Tag.imagePositionPatient, count: 3) else {
            throw ImagingError(.missingGeometry, "image \(sop) has no ImagePositionPatient")
        }
        guard let orientation = vector(dataset, Tag.imageOrientationPatient, count: 6) else {
            throw ImagingError(.missingGeometry, "image \(sop) has no ImageOrientationPatient")
        }
        guard let spacing = vector(dataset, Tag.pixelSpacing, count: 2), spacing.allSatisfy({ $0 > 0 }) else {
            throw ImagingError(.missingGeometry, "image \(sop) has no valid PixelSpacing")
        }
        guard pixels.numberOfFrames == 1 else {
            throw ImagingError(.missingGeometry, "image \(sop) has \(pixels.numberOfFrames) frames and no per-frame functional groups")
        }
        return [
            Plane(
                position: SIMD3(position[0], position[1], position[2]),
                rowDirection: unit(SIMD3(orientation[0], orientation[1], orientation[2])),
                columnDirection: unit(SIMD3(orientation[3], orientation[4], orientation[5])),
                rowSpacing: spacing[0], columnSpacing: spacing[1],
                slope: dataset.double(.rescaleSlope) ?? 1, intercept: dataset.double(.rescaleIntercept) ?? 0,
                pixels: pixels, frame: 0, source: .init(sopClassUID: sopClass, sopInstanceUID: sop))
        ]
    }

    private static func vector(_ dataset: Dataset, _ tag: Tag, count: Int) -> [Double]? {
        guard let values = dataset.numbers(tag), values.count == count, values.allSatisfy(\.isFinite) else { return nil }
        return values
    }

    private static func unit(_ v: SIMD3<Double>) -> SIMD3<Double> {
        let norm = length(v)
        return norm > 0 ? v / norm : v
    }

    private static func format(_ v: SIMD3<Double>) -> String {
        "(" + [v.x, v.y, v.z].map { String(format: "%.3f", $0) }.joined(separator: ", ") + ")"
    }
}
