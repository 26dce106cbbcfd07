public import MetisRPC
public import Segmentation

/// Why a segmentation did not run; each case names what a user can change.
public enum SegmentationWorkflowError: Error, CustomStringConvertible {
    case noStudy(String)
    case noSeries(study: String, series: String)
    /// The engine reads none of the study's series, or the study lacks the sequence of one of its
    /// input channels (and no fallback was allowed, or none applies).
    case noSeriesToSegment(study: String, engine: String, SeriesChoice.ChannelMismatch)
    case seriesTooLarge(series: String, bytes: Int, limit: Int)
    /// Instances whose pixel data Metis cannot decode (refused before any is sent to a worker).
    case undecodable(series: String, syntax: String)
    /// A channel's series is not in the first channel's Frame of Reference (Metis does not register images).
    case otherFrameOfReference(series: String, String, reference: String, String)
    /// The runner has no engine of that name.
    case unknownEngine(String, available: [String])
    /// A service the workflow called failed.
    case service(String, RPCError)

    public var description: String {
        switch self {
        case .noStudy(let study): "no study \(study)"
        case .noSeries(let study, let series): "no series \(series) in study \(study)"
        case .noSeriesToSegment(let study, let engine, let none):
            "study \(study): no series to segment with \(engine): \(none)"
        case .seriesTooLarge(let series, let bytes, let limit):
            "series \(series) holds \(bytes) bytes, more than max_series_bytes (\(limit)); raise it in the configuration"
        case .undecodable(let series, let syntax):
            "series \(series) is stored as \(syntax), whose pixel data Metis cannot decode; store it in another transfer syntax"
        case .otherFrameOfReference(let series, let frame, let reference, let referenceFrame):
            "series \(series) is in frame of reference '\(frame)', series \(reference) in '\(referenceFrame)': the series of a multi-sequence model must share one (Metis does not register images)"
        case .unknownEngine(let name, let available): "unknown engine '\(name)'; available: \(available.joined(separator: ", "))"
        case .service(let name, let error): "\(name): \(error.message)"
        }
    }
}
