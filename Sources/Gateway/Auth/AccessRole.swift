/// What a token may do: each role includes the ones below it.
public enum AccessRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads studies, images, segmentations and the follow-up.
    case viewer
    /// Also uploads, segments and exports.
    case clinician
    /// Everything, deletion included.
    case admin

    public static func < (left: AccessRole, right: AccessRole) -> Bool {
        allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
    }
}
