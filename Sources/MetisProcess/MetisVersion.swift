/// The version every Metis component reports.
public enum MetisVersion {
    public static let current = "0.1.0"
}
