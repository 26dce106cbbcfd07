public import DICOM
public import Foundation
public import Segmentation

/// What an engine run gives the workflow: the lesions, what was dropped, the
/// encoded output and what follow-up needs of the examination.
public struct SegmentationOutcome: Sendable {
    /// The encoded RTSTRUCT or SEG.
    public struct Output: Sendable {
        public var dicom: Data
        public var format: SegmentationPipeline.OutputFormat
        public var sopInstanceUID: String
        public var seriesInstanceUID: String

        public init(dicom: Data, format: SegmentationPipeline.OutputFormat, sopInstanceUID: String, seriesInstanceUID: String) {
            self.dicom = dicom
            self.format = format
            self.sopInstanceUID = sopInstanceUID
            self.seriesInstanceUID = seriesInstanceUID
        }
    }

    /// The examination, as the source series names it.
    public struct Examination: Sendable, Equatable {
        public var patientID = ""
        public var patientName = ""
        public var patientBirthDate = ""
        public var patientSex = ""
        public var studyDate = ""

        public init(
            patientID: String = "", patientName: String = "", patientBirthDate: String = "", patientSex: String = "", studyDate: String = ""
        ) {
            self.patientID = patientID
            self.patientName = patientName
            self.patientBirthDate = patientBirthDate
            self.patientSex = patientSex
            self.studyDate = studyDate
        }

        public init(_ dataset: Dataset) {
            self.init(
                patientID: dataset.string(.patientID) ?? "", patientName: dataset.string(.patientName) ?? "",
                patientBirthDate: dataset.string(.patientBirthDate) ?? "", patientSex: dataset.string(.patientSex) ?? "",
                studyDate: dataset.string(.studyDate) ?? "")
        }
    }

    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var examination: Examination
    public var engine: String
    public var engineVersion: String
    /// What the result is, as written into the output.
    public var notice: String
    public var lesions: [Lesion]
    public var rejected: [LesionPlausibility.Rejection]
    public var intracranialVolume: Double
    /// Nil when no lesion was found: nothing is written then.
    public var output: Output?
    public var timings: [(stage: String, seconds: Double)]
    public var slices: Int
    /// Mean slice spacing of the analysed volume, mm.
    public var sliceSpacing: Double
    /// The head's centroid (patient mm), to align follow-up examinations.
    public var headCentroid: SIMD3<Double>?
    /// The engine's other labels, written in the output after the lesions.
    public var labelNames: [String] = []

    public init(
        studyInstanceUID: String, seriesInstanceUID: String, examination: Examination, engine: String, engineVersion: String,
        notice: String, lesions: [Lesion], rejected: [LesionPlausibility.Rejection], intracranialVolume: Double, output: Output?,
        timings: [(stage: String, seconds: Double)], slices: Int, sliceSpacing: Double, headCentroid: SIMD3<Double>?
    ) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.examination = examination
        self.engine = engine
        self.engineVersion = engineVersion
        self.notice = notice
        self.lesions = lesions
        self.rejected = rejected
        self.intracranialVolume = intracranialVolume
        self.output = output
        self.timings = timings
        self.slices = slices
        self.sliceSpacing = sliceSpacing
        self.headCentroid = headCentroid
    }

    /// A pipeline run on a series whose first image is `source`.
    public init(_ result: SegmentationPipeline.Result, source: Dataset) {
        var output: Output?
        if let dicom = result.output, let sop = result.outputSOPInstanceUID, let series = result.outputSeriesInstanceUID {
            output = Output(dicom: dicom, format: result.outputFormat, sopInstanceUID: sop, seriesInstanceUID: series)
        }
        self.init(
            studyInstanceUID: result.studyInstanceUID, seriesInstanceUID: result.seriesInstanceUID, examination: Examination(source),
            engine: result.engine, engineVersion: result.engineVersion, notice: result.notice, lesions: result.lesions,
            rejected: result.rejected, intracranialVolume: result.intracranialVolume, output: output, timings: result.timings,
            slices: result.slices, sliceSpacing: result.sliceSpacing, headCentroid: result.headCentroid)
        labelNames = result.labelNames
    }
}
