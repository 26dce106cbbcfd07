public import DICOM
public import Foundation
public import Imaging
import StructureSet

/// Series → volume → engine mask → lesions (measured, contoured) → RTSTRUCT.
/// The same path serves the inference service and `metis segment`. An engine
/// reading several sequences gets one series per input channel, each brought
/// onto the first one's grid through patient coordinates; the lesions and
/// the output refer to the first.
public struct SegmentationPipeline: Sendable {
    /// The DICOM object a run writes.
    public enum OutputFormat: String, Sendable {
        /// RT Structure Set: contours, what OHIF's RT extension displays.
        case rtstruct
        /// DICOM Segmentation (binary), one segment per lesion.
        case seg
    }

    /// What a run gives: the lesions, the output (nil when no lesion is
    /// found: an empty structure set or segmentation is invalid DICOM), and where time went.
    public struct Result: Sendable {
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var lesions: [Lesion]
        public var output: Data?
        public var outputFormat: OutputFormat
        public var outputSOPInstanceUID: String?
        public var outputSeriesInstanceUID: String?
        public var engine: String
        public var engineVersion: String
        /// What the result is, as written into the output.
        public var notice: String
        /// Components the engine found that are no plausible lesion, with their reasons.
        public var rejected: [LesionPlausibility.Rejection]
        /// The intracranial mask the lesions were limited to, on the analysed volume, and its volume (mm³).
        public var intracranial: [Bool]
        public var intracranialVolume: Double
        /// Seconds per stage, in order: volume, engine, intracranial, lesions, contours, encode.
        public var timings: [(stage: String, seconds: Double)]
        /// The analysed volume's slice count and mean slice spacing (mm).
        public var slices: Int
        public var sliceSpacing: Double
        /// The engine's other labels written after the lesions, as their own ROIs or segments (their names).
        public var labelNames: [String]
        /// The reported lesions' voxels on the analysed volume (the engine's mask
        /// after `LesionPlausibility`), indexed `(slice * rows + row) * columns + column`.
        public var mask: [Bool]
        public var rows: Int
        public var columns: Int
        /// The head's centroid (patient mm), to align follow-up examinations.
        public var headCentroid: SIMD3<Double>?
    }

    /// One progress event.
    public struct ProgressEvent: Sendable {
        public var stage: String
        public var fraction: Double
        public init(stage: String, fraction: Double) {
            self.stage = stage
            self.fraction = fraction
        }
    }

    /// A stage and how far it is, for progress events.
    public typealias Progress = @Sendable (_ stage: String, _ fraction: Double) -> Void

    public var engine: any SegmentationEngine
    public var softwareVersion: String
    public var intracranialMask = IntracranialMask()

    public init(engine: any SegmentationEngine, softwareVersion: String) {
        self.engine = engine
        self.softwareVersion = softwareVersion
    }

    public func run(_ files: [DICOMFile], format: OutputFormat = .rtstruct, progress: Progress = { _, _ in }) throws -> Result {
        try run(channels: [files], format: format, progress: progress)
    }

    /// One series per input channel of the engine, in its order.
    public func run(channels series: [[DICOMFile]], format: OutputFormat = .rtstruct, progress: Progress = { _, _ in }) throws -> Result {
        guard series.count == engine.channels.count else {
            throw ImagingError(
                .invalidArgument,
                "the \(engine.name) engine reads \(engine.channels.count) series (one per input channel), given \(series.count)")
        }
        let files = series[0]
        var timings = [(stage: String, seconds: Double)]()
        let clock = ContinuousClock()
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            progress(stage, 0)
            let start = clock.now
            let value = try body()
            let elapsed = start.duration(to: clock.now)
            timings.append((stage, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            progress(stage, 1)
            return value
        }
        let (volume, channels) = try timed("volume") { () throws -> (Volume, [[Float]]) in
            let volume = try VolumeBuilder.build(files)
            var channels = [volume.voxels]
            for files in series.dropFirst() {
                let other = try VolumeBuilder.build(files)
                guard !volume.frameOfReferenceUID.isEmpty, other.frameOfReferenceUID == volume.frameOfReferenceUID else {
                    throw ImagingError(
                        .invalidArgument,
                        "series \(other.seriesInstanceUID) is in frame of reference '\(other.frameOfReferenceUID)', series \(volume.seriesInstanceUID) in '\(volume.frameOfReferenceUID)': the channels of a model must share one (Metis does not register images)"
                    )
                }
                channels.append(other.resampled(onto: volume.geometry))
            }
            return (volume, channels)
        }
        let (engineMask, outputLabels) = try timed("engine") {
            try engine.segmentLabels(volume, channels: channels) { progress("engine", $0) }
        }
        let intracranial = timed("intracranial") { intracranialMask.mask(of: volume) }
        let (mask, rejected) = engine.plausibility.apply(engineMask, intracranial: intracranial, volume: volume)
        let (labels, bounds, measurements) = timed("lesions") { () -> ([Int32], [VoxelBounds?], [LesionMeasurement]) in
            let (labels, count) = ConnectedComponents.label(mask, columns: volume.columns, rows: volume.rows, slices: volume.slices)
            let bounds = VoxelBounds.of(labels, count: count, columns: volume.columns, rows: volume.rows)
            let measurements =
                count == 0
                ? []
                : (1...Int32(count)).compactMap {
                    LesionMeasurement.measure(label: $0, labels: labels, volume: volume, bounds: bounds[Int($0)])
                }
            return (labels, bounds, measurements)
        }
        let lesions = measurements.enumerated().map { offset, measurement in
            let number = offset + 1
            let color = StructureSetLesion.color(forLesion: number)
            return Lesion(
                number: number, name: "Lesion \(number)", color: .init(red: color.red, green: color.green, blue: color.blue),
                measurement: measurement)
        }
        // The engine's other labels (a model's whole tumour, oedema), each one ROI of all its voxels, after the lesions.
        let written = outputLabels.filter { $0.mask.contains(true) }
        let labelMaps = written.map { label in label.mask.map { $0 ? Int32(1) : 0 } }
        let (contours, labelContours) = timed("contours") {
            (
                lesions.map {
                    LesionContour.contours(label: Int32($0.number), labels: labels, geometry: volume.geometry, bounds: bounds[$0.number])
                },
                labelMaps.map { map in
                    LesionContour.contours(
                        label: 1, labels: map, geometry: volume.geometry,
                        bounds: VoxelBounds.of(map, count: 1, columns: volume.columns, rows: volume.rows)[1])
                }
            )
        }
        var output: Data?
        var sopInstanceUID: String?, seriesInstanceUID: String?
        if !lesions.isEmpty || !written.isEmpty {
            let sop = UID.make(), series = UID.make()
            let algorithm = GeneratingAlgorithm(
                name: engine.name, version: "\(engine.version) (Metis \(softwareVersion))", notice: engine.notice,
                interpretedType: engine.roiInterpretedType)
            output = try timed("encode") {
                let dataset: Dataset
                switch format {
                case .rtstruct:
                    dataset = try RTStructureSetWriter.dataset(
                        lesions: zip(lesions, contours).map { lesion, contours in
                            StructureSetLesion(
                                name: lesion.name, color: (lesion.color.red, lesion.color.green, lesion.color.blue), contours: contours)
                        }
                            + zip(written, labelContours).map { label, contours in
                                StructureSetLesion(
                                    name: label.name, color: (label.color.red, label.color.green, label.color.blue), contours: contours)
                            },
                        volume: volume, source: files[0].dataset, algorithm: algorithm, sopInstanceUID: sop, seriesInstanceUID: series)
                case .seg:
                    let plane = volume.columns * volume.rows
                    let segments =
                        lesions.map { lesion in
                            let box = bounds[lesion.number]!
                            return SegmentationWriter.Segment(
                                label: lesion.name,
                                planes: (box.minimum.z...box.maximum.z).map { slice in
                                    (slice, (0..<plane).map { labels[slice * plane + $0] == Int32(lesion.number) })
                                })
                        }
                        + written.map { label in
                            SegmentationWriter.Segment(
                                label: label.name,
                                planes: (0..<volume.slices).compactMap { slice in
                                    let pixels = Array(label.mask[slice * plane..<(slice + 1) * plane])
                                    return pixels.contains(true) ? (slice, pixels) : nil
                                })
                        }
                    dataset = try SegmentationWriter.dataset(
                        segments: segments, volume: volume, source: files[0].dataset, algorithm: algorithm, sopInstanceUID: sop,
                        seriesInstanceUID: series)
                }
                return try DICOMWriter.write(dataset)
            }
            sopInstanceUID = sop
            seriesInstanceUID = series
        }
        return Result(
            studyInstanceUID: volume.studyInstanceUID, seriesInstanceUID: volume.seriesInstanceUID,
            lesions: lesions, output: output,
            outputFormat: format, outputSOPInstanceUID: sopInstanceUID, outputSeriesInstanceUID: seriesInstanceUID, engine: engine.name,
            engineVersion: engine.version, notice: engine.notice, rejected: rejected, intracranial: intracranial,
            intracranialVolume: volume.measuredVolume(of: intracranial), timings: timings, slices: volume.slices,
            sliceSpacing: volume.geometry.sliceThicknesses.reduce(0, +) / Double(volume.slices), labelNames: written.map(\.name),
            mask: mask, rows: volume.rows,
            columns: volume.columns, headCentroid: volume.headCentroid())
    }
}
