/// The abstract syntaxes of the services Metis provides and uses.
public enum SOPClass {
    public static let verification = "1.2.840.10008.1.1"
    public static let patientRootFind = "1.2.840.10008.5.1.4.1.2.1.1"
    public static let patientRootMove = "1.2.840.10008.5.1.4.1.2.1.2"
    public static let patientRootGet = "1.2.840.10008.5.1.4.1.2.1.3"
    public static let studyRootFind = "1.2.840.10008.5.1.4.1.2.2.1"
    public static let studyRootMove = "1.2.840.10008.5.1.4.1.2.2.2"
    public static let studyRootGet = "1.2.840.10008.5.1.4.1.2.2.3"

    public static let find = [patientRootFind, studyRootFind]
    public static let move = [patientRootMove, studyRootMove]
    public static let get = [patientRootGet, studyRootGet]

    /// Storage SOP classes outside 1.2.840.10008.5.1.4.1.1 (PS3.4 Annex B): second-generation RT, implant templates.
    private static let otherStoragePrefixes = [
        "1.2.840.10008.5.1.4.34.", "1.2.840.10008.5.1.4.38.", "1.2.840.10008.5.1.4.43.", "1.2.840.10008.5.1.4.44.",
        "1.2.840.10008.5.1.4.45.",
    ]

    /// Whether `uid` names a Storage SOP Class: every standard one (PS3.4 Annex B, PS3.6 Table A-1) lies under
    /// 1.2.840.10008.5.1.4.1.1 or the few arcs above, the Query/Retrieve classes under ….1.2 do not.
    public static func isStorage(_ uid: String) -> Bool {
        (uid.hasPrefix("1.2.840.10008.5.1.4.1.1.") || otherStoragePrefixes.contains(where: uid.hasPrefix))
            && uid.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// Common image and RT storage classes, the ones an SCU proposes when it cannot know (`metis dicom get` without a class).
    public static let commonStorage = [
        "1.2.840.10008.5.1.4.1.1.4",  // MR Image
        "1.2.840.10008.5.1.4.1.1.4.1",  // Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.2",  // CT Image
        "1.2.840.10008.5.1.4.1.1.2.1",  // Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.128",  // PET Image
        "1.2.840.10008.5.1.4.1.1.7",  // Secondary Capture
        "1.2.840.10008.5.1.4.1.1.66.4",  // Segmentation
        "1.2.840.10008.5.1.4.1.1.481.3",  // RT Structure Set
        "1.2.840.10008.5.1.4.1.1.481.2",  // RT Dose
        "1.2.840.10008.5.1.4.1.1.481.5",  // RT Plan
        "1.2.840.10008.5.1.4.1.1.88.33",  // Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.11.1",  // Grayscale Softcopy Presentation State
    ]
}
