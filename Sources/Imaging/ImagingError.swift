/// Why a series could not become a volume, or an image operation failed.
public struct ImagingError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The instances are not one volume (several series, mixed orientations, missing or duplicate slices).
        case notOneVolume
        /// An attribute the geometry needs is missing or invalid.
        case missingGeometry
        /// The pixel data cannot be decoded.
        case pixelData
        /// Arguments that do not fit the volume.
        case invalidArgument
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
