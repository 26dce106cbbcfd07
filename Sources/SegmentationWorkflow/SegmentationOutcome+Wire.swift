import Imaging
public import MetisProto
public import Segmentation
import SwiftProtobuf

// The outcome over RPC (inference.proto's SegmentResult) and into tracking
// (RecordStudyRequest): the one place these messages are made from, and
// read into, the domain types.

extension Metis_V1_SegmentResult {
    public init(_ outcome: SegmentationOutcome) {
        self.init()
        if let head = outcome.headCentroid { headCentroidMm = [head.x, head.y, head.z] }
        patientID = outcome.examination.patientID
        patientName = outcome.examination.patientName
        patientBirthDate = outcome.examination.patientBirthDate
        patientSex = outcome.examination.patientSex
        studyDate = outcome.examination.studyDate
        studyInstanceUid = outcome.studyInstanceUID
        seriesInstanceUid = outcome.seriesInstanceUID
        engine = outcome.engine
        engineVersion = outcome.engineVersion
        notice = outcome.notice
        intracranialVolumeMm3 = outcome.intracranialVolume
        rejected = outcome.rejected.map(Metis_V1_RejectedComponent.init)
        if let result = outcome.output {
            output = result.dicom
            outputFormat = result.format == .seg ? .seg : .rtstruct
            outputSopInstanceUid = result.sopInstanceUID
            outputSeriesInstanceUid = result.seriesInstanceUID
        }
        slices = UInt32(outcome.slices)
        sliceSpacingMm = outcome.sliceSpacing
        timings = outcome.timings.map { timing in
            .with {
                $0.stage = timing.stage; $0.seconds = timing.seconds
            }
        }
        lesions = outcome.lesions.map(Metis_V1_Lesion.init)
        labelNames = outcome.labelNames
    }
}

extension SegmentationOutcome {
    /// A worker's answer; refuses what no worker of this version sends.
    public init(_ message: Metis_V1_SegmentResult) throws(WireError) {
        var output: Output?
        if !message.output.isEmpty {
            output = Output(
                dicom: message.output, format: message.outputFormat == .seg ? .seg : .rtstruct,
                sopInstanceUID: message.outputSopInstanceUid,
                seriesInstanceUID: message.outputSeriesInstanceUid)
        }
        var lesions = [Lesion]()
        for lesion in message.lesions { lesions.append(try Lesion(lesion)) }
        var rejected = [LesionPlausibility.Rejection]()
        for component in message.rejected { rejected.append(try LesionPlausibility.Rejection(component)) }
        self.init(
            studyInstanceUID: message.studyInstanceUid, seriesInstanceUID: message.seriesInstanceUid,
            examination: Examination(
                patientID: message.patientID, patientName: message.patientName, patientBirthDate: message.patientBirthDate,
                patientSex: message.patientSex, studyDate: message.studyDate),
            engine: message.engine, engineVersion: message.engineVersion, notice: message.notice, lesions: lesions, rejected: rejected,
            intracranialVolume: message.intracranialVolumeMm3, output: output, timings: message.timings.map { ($0.stage, $0.seconds) },
            slices: Int(message.slices), sliceSpacing: message.sliceSpacingMm,
            headCentroid: message.headCentroidMm.count == 3
                ? SIMD3(message.headCentroidMm[0], message.headCentroidMm[1], message.headCentroidMm[2]) : nil)
        labelNames = message.labelNames
    }

    /// What metis-tracking keeps of the run: the examination and its lesions.
    public func followUpRecord(study: String, structureSet: String) -> Metis_V1_RecordStudyRequest {
        .with {
            $0.patientID = examination.patientID
            $0.patientName = examination.patientName
            $0.birthDate = examination.patientBirthDate
            $0.sex = examination.patientSex
            $0.studyInstanceUid = study
            $0.seriesInstanceUid = seriesInstanceUID
            $0.structureSetSopInstanceUid = structureSet
            $0.studyDate = examination.studyDate
            $0.engine = engine
            $0.modelVersion = engineVersion
            $0.sliceThicknessMm = sliceSpacing
            if let head = headCentroid { $0.headCentroidMm = [head.x, head.y, head.z] }
            $0.lesions = lesions.map(Metis_V1_TrackedLesion.init)
        }
    }
}

/// A message that does not hold what its contract says.
public struct WireError: Error, CustomStringConvertible {
    public var description: String
}

extension Metis_V1_Lesion {
    public init(_ lesion: Lesion) {
        self.init()
        let m = lesion.measurement
        number = UInt32(lesion.number)
        name = lesion.name
        color = [UInt32(lesion.color.red), UInt32(lesion.color.green), UInt32(lesion.color.blue)]
        volumeMm3 = m.volume
        voxelCount = UInt32(m.voxelCount)
        longestDiameterMm = m.longestDiameter
        longestAxialDiameterMm = m.longestAxialDiameter
        perpendicularDiameterMm = m.perpendicularDiameter
        axialDiameterSlice = UInt32(m.axialDiameterSlice)
        centroid = [m.centroid.x, m.centroid.y, m.centroid.z]
        firstSlice = UInt32(m.firstSlice)
        lastSlice = UInt32(m.lastSlice)
        meanIntensity = m.meanIntensity
    }
}

extension Lesion {
    public init(_ message: Metis_V1_Lesion) throws(WireError) {
        guard message.color.count == 3, message.centroid.count == 3 else {
            throw WireError(description: "lesion \(message.number) has no colour or centroid of three values")
        }
        self.init(
            number: Int(message.number), name: message.name,
            color: .init(red: Int(message.color[0]), green: Int(message.color[1]), blue: Int(message.color[2])),
            measurement: .init(
                volume: message.volumeMm3, voxelCount: Int(message.voxelCount), longestDiameter: message.longestDiameterMm,
                longestAxialDiameter: message.longestAxialDiameterMm, perpendicularDiameter: message.perpendicularDiameterMm,
                axialDiameterSlice: Int(message.axialDiameterSlice),
                centroid: SIMD3(message.centroid[0], message.centroid[1], message.centroid[2]),
                firstSlice: Int(message.firstSlice), lastSlice: Int(message.lastSlice), meanIntensity: message.meanIntensity))
    }
}

extension Metis_V1_TrackedLesion {
    /// A lesion as tracking records it: under its ROI number and label.
    public init(_ lesion: Lesion) {
        self.init()
        let m = lesion.measurement
        roiNumber = UInt32(lesion.number)
        label = lesion.name
        volumeMm3 = m.volume
        longestDiameterMm = m.longestDiameter
        longestAxialDiameterMm = m.longestAxialDiameter
        perpendicularDiameterMm = m.perpendicularDiameter
        firstSlice = UInt32(m.firstSlice)
        lastSlice = UInt32(m.lastSlice)
        centroidMm = [m.centroid.x, m.centroid.y, m.centroid.z]
        meanIntensity = m.meanIntensity
    }
}

extension Metis_V1_RejectedComponent {
    public init(_ rejection: LesionPlausibility.Rejection) {
        self.init()
        reason = rejection.code
        explanation = rejection.explanation
        measure = rejection.reason.measure
        volumeMm3 = rejection.volume
        voxelCount = UInt32(rejection.voxelCount)
        centroid = [rejection.centroid.x, rejection.centroid.y, rejection.centroid.z]
    }
}

extension LesionPlausibility.Rejection {
    public init(_ message: Metis_V1_RejectedComponent) throws(WireError) {
        guard let reason = Reason(code: message.reason, measure: message.measure), message.centroid.count == 3 else {
            throw WireError(description: "rejected component '\(message.reason)' has an unknown reason or no centroid of three values")
        }
        self.init(
            reason: reason, volume: message.volumeMm3, voxelCount: Int(message.voxelCount),
            centroid: SIMD3(message.centroid[0], message.centroid[1], message.centroid[2]))
    }
}
