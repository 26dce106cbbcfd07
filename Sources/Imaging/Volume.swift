/// A scalar image volume with its patient geometry and the source instances
/// of its slices. Voxels are rescaled values (Rescale Slope/Intercept
/// applied), indexed `(slice * rows + row) * columns + column`.
public struct Volume: Sendable {
    /// What an output (an RTSTRUCT, a SEG) must reference: one source image per slice.
    public struct SliceSource: Sendable, Equatable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        /// The frame (1-based) within a multi-frame instance; nil for single-frame images.
        public var frameNumber: Int?

        public init(sopClassUID: String, sopInstanceUID: String, frameNumber: Int? = nil) {
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
            self.frameNumber = frameNumber
        }
    }

    public var geometry: VolumeGeometry
    public var voxels: [Float]
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
    /// One per slice, in slice order.
    public var sources: [SliceSource]

    public init(
        geometry: VolumeGeometry, voxels: [Float], studyInstanceUID: String = "", seriesInstanceUID: String = "",
        frameOfReferenceUID: String = "", sources: [SliceSource] = []
    ) {
        precondition(voxels.count == geometry.columns * geometry.rows * geometry.slices, "voxel count does not match the geometry")
        self.geometry = geometry
        self.voxels = voxels
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.sources = sources
    }

    public var columns: Int { geometry.columns }
    public var rows: Int { geometry.rows }
    public var slices: Int { geometry.slices }

    @inline(__always)
    public func index(column: Int, row: Int, slice: Int) -> Int { (slice * rows + row) * columns + column }

    public subscript(column: Int, row: Int, slice: Int) -> Float {
        get { voxels[index(column: column, row: row, slice: slice)] }
        set { voxels[index(column: column, row: row, slice: slice)] = newValue }
    }
}
