import MetisProto

/// One segmented examination to record for follow-up: the patient, the study
/// and series analysed, the result's structure set, and its lesions. What
/// `TrackingDatabase` takes, as `StorageIndex` takes an `IndexedInstance`;
/// made from the wire message (and checked) by `init(_:)`.
struct RecordedExamination: Sendable, Equatable {
    struct Patient: Sendable, Equatable {
        var id: String
        var name: String
        /// DICOM DA, or empty.
        var birthDate: String
        var sex: String
    }

    /// A lesion as measured on the analysed series.
    struct Lesion: Sendable, Equatable {
        /// ROI Number in the structure set, 1-based and distinct.
        var number: UInt32
        var label: String
        var volume: Double
        var longestDiameter: Double
        var longestAxialDiameter: Double
        var perpendicularDiameter: Double
        /// 0-based slice indices along the analysed series' normal.
        var slices: ClosedRange<UInt32>
        /// Patient coordinates, mm.
        var centroid: SIMD3<Double>
        var meanIntensity: Double
    }

    var patient: Patient
    var studyInstanceUID: String
    var seriesInstanceUID: String
    var structureSetSOPInstanceUID: String
    /// DICOM DA, YYYYMMDD; orders the studies of a patient.
    var studyDate: String
    var engine: String
    var modelVersion: String
    var sliceThickness: Double
    /// Centroid of the head (patient mm), to align examinations before matching lesions.
    var headCentroid: SIMD3<Double>?
    var lesions: [Lesion]

    /// What the database answers for a recorded examination.
    struct Outcome: Sendable, Equatable {
        var patientKey: Int64
        var studyKey: Int64
        var lesions: Int
        /// Tracks of the patient after matching.
        var tracks: Int
        /// The study had been recorded before; its lesions were replaced.
        var replaced: Bool
    }
}

extension RecordedExamination {
    /// The examination a `RecordStudyRequest` describes; `TrackingError.invalidArgument` names what is wrong with one that cannot be recorded.
    init(_ request: Metis_V1_RecordStudyRequest) throws(TrackingError) {
        func invalid(_ message: String) -> TrackingError { TrackingError(.invalidArgument, message) }
        guard !request.patientID.isEmpty else { throw invalid("patient_id is empty: a follow-up needs the patient") }
        guard !request.studyInstanceUid.isEmpty, !request.seriesInstanceUid.isEmpty else {
            throw invalid("study_instance_uid and series_instance_uid are required")
        }
        guard request.headCentroidMm.isEmpty || request.headCentroidMm.count == 3 else {
            throw invalid("head_centroid_mm has \(request.headCentroidMm.count) values, not 3")
        }
        guard !request.engine.isEmpty else { throw invalid("engine is empty") }
        var numbers = Set<UInt32>()
        var lesions = [Lesion]()
        for lesion in request.lesions {
            guard lesion.centroidMm.count == 3 else { throw invalid("lesion \(lesion.roiNumber): centroid_mm must have 3 values") }
            guard numbers.insert(lesion.roiNumber).inserted, lesion.roiNumber > 0 else {
                throw invalid("lesion ROI numbers must be positive and distinct; \(lesion.roiNumber) is not")
            }
            let values = [lesion.volumeMm3, lesion.longestDiameterMm, lesion.longestAxialDiameterMm, lesion.perpendicularDiameterMm]
            guard values.allSatisfy({ $0.isFinite && $0 >= 0 }), lesion.centroidMm.allSatisfy(\.isFinite) else {
                throw invalid("lesion \(lesion.roiNumber): measurements must be finite and not negative")
            }
            guard lesion.firstSlice <= lesion.lastSlice else {
                throw invalid("lesion \(lesion.roiNumber): first_slice is after last_slice")
            }
            let c = lesion.centroidMm
            lesions.append(
                Lesion(
                    number: lesion.roiNumber, label: lesion.label, volume: lesion.volumeMm3, longestDiameter: lesion.longestDiameterMm,
                    longestAxialDiameter: lesion.longestAxialDiameterMm, perpendicularDiameter: lesion.perpendicularDiameterMm,
                    slices: lesion.firstSlice...lesion.lastSlice, centroid: SIMD3(c[0], c[1], c[2]), meanIntensity: lesion.meanIntensity))
        }
        let head = request.headCentroidMm
        self.init(
            patient: Patient(id: request.patientID, name: request.patientName, birthDate: request.birthDate, sex: request.sex),
            studyInstanceUID: request.studyInstanceUid, seriesInstanceUID: request.seriesInstanceUid,
            structureSetSOPInstanceUID: request.structureSetSopInstanceUid, studyDate: request.studyDate, engine: request.engine,
            modelVersion: request.modelVersion, sliceThickness: request.sliceThicknessMm,
            headCentroid: head.count == 3 ? SIMD3(head[0], head[1], head[2]) : nil, lesions: lesions)
    }
}

extension Metis_V1_RecordStudyResponse {
    init(_ outcome: RecordedExamination.Outcome) {
        self.init()
        patientKey = outcome.patientKey
        studyKey = outcome.studyKey
        lesions = UInt32(outcome.lesions)
        tracks = UInt32(outcome.tracks)
        replaced = outcome.replaced
    }
}
