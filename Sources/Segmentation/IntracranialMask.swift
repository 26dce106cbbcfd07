public import Imaging

/// The intracranial volume of a head MR series: everything inside the inner
/// table of the skull — brain, cerebrospinal fluid, meninges and dura, where
/// dural metastases lie — whatever the contrast (T1 with or without
/// contrast, FLAIR, T2), plane or slice thickness. Every engine's output is
/// limited to it before it becomes lesions (`LesionPlausibility`).
///
/// Cortical bone is dark in every MR sequence; scalp fat, skull marrow and
/// brain are not. The steps (docs/segmentation.md):
///
/// 1. Head: voxels above an Otsu threshold, the largest component, holes filled.
/// 2. Reference: the median intensity deep inside the head (`referenceDepth`
///    mm from its surface, which only brain reaches); the head made again
///    from voxels above `headFraction` of it, closed and filled.
/// 3. Tissue: head voxels above `tissueFraction` of that median (drops bone,
///    air and, on T1 and FLAIR, fluid).
/// 4. Brain: the tissue opened (`openingRadii` mm, the next one tried while
///    the result still reaches the scalp), which cuts the bridges through the
///    skull; the component that holds most of the deep region, grown back
///    inside the tissue.
/// 5. Intracranial: the brain closed by `closingRadius` mm (sulci), holes
///    filled (ventricles), grown by `freeMargin` mm through anything (fluid,
///    dura) and on to `margin` mm through dark voxels only (fluid, not the
///    marrow and scalp beyond the inner table), inside the head; and when no
///    opening separated brain from scalp, at least `skullDepth` mm inside it.
public struct IntracranialMask: Sendable {
    public var referenceDepth = 25.0
    public var tissueFraction: Float = 0.4
    /// The head, once the brain's level is known: voxels above this share of it, closed by `scalpClosing` mm.
    public var headFraction: Float = 0.15
    public var scalpClosing = 3.0
    /// Opening radii tried in turn (mm), until the brain no longer reaches the scalp.
    public var openingRadii = [3.5, 5.0, 7.0]
    /// The band inside the head's surface the brain must not reach (mm), and the share of it it may touch.
    public var scalpDepth = 3.0
    public var maximumScalpContact = 0.05
    /// Smallest part of the opened tissue, besides the main one, kept as brain when it keeps clear of the scalp (mm³).
    public var minimumFragment = 1000.0
    /// When no opening separates brain and scalp: the mask keeps this far (mm) inside the head's surface.
    public var skullDepth = 8.0
    public var closingRadius = 6.0
    /// Growth beyond the closed brain: through anything up to `freeMargin` mm (fluid, dura), through dark voxels only up to `margin` mm.
    public var freeMargin = 3.0
    public var margin = 4.5

    public init() {}

    /// One Bool per voxel of `volume`, in its order; all false for an empty image.
    public func mask(of volume: Volume) -> [Bool] {
        let geometry = volume.geometry
        let columns = geometry.columns, rows = geometry.rows, slices = geometry.slices
        let spacing = (x: geometry.columnSpacing, y: geometry.rowSpacing, z: geometry.sliceThicknesses.reduce(0, +) / Double(slices))
        let voxels = volume.voxels
        let voxelVolume = spacing.x * spacing.y * spacing.z
        let empty = [Bool](repeating: false, count: voxels.count)
        func radii(_ millimetres: Double) -> (x: Int, y: Int, z: Int) { Morphology.radii(millimetres, spacing: spacing) }
        func erode(_ m: [Bool], _ mm: Double, beyondEdgeSet: Bool = true) -> [Bool] {
            Morphology.erode(m, columns: columns, rows: rows, slices: slices, radii: radii(mm), beyondEdgeSet: beyondEdgeSet)
        }
        func dilate(_ m: [Bool], _ mm: Double) -> [Bool] {
            Morphology.dilate(m, columns: columns, rows: rows, slices: slices, radii: radii(mm))
        }

        // 1. Head.
        let positive = Statistics.sample(voxels, limit: 1_000_000).filter { $0 > 0 }
        guard positive.count > 100 else { return empty }
        // Otsu on values capped at the 99.5th percentile: a few very bright voxels would squeeze the histogram.
        let cap = positive.sorted()[(positive.count - 1) * 995 / 1000]
        let headThreshold = Statistics.otsu(positive.map { min($0, cap) })
        var head = Self.largestComponent(voxels.map { $0 > headThreshold }, columns: columns, rows: rows, slices: slices)
        head = Morphology.fillHolesPerSlice(head, columns: columns, rows: rows, slices: slices)
        head = Morphology.fillHoles(head, columns: columns, rows: rows, slices: slices)
        // 2. Reference intensity, from the deepest region the head has.
        var deep = empty
        for depth in [referenceDepth, referenceDepth * 0.6, referenceDepth * 0.3] {
            deep = erode(head, depth, beyondEdgeSet: false)
            if deep.lazy.filter({ $0 }).count >= 100 { break }
        }
        let deepRegion = deep
        let deepValues = voxels.indices.lazy.filter { deepRegion[$0] }.map { voxels[$0] }
        guard deepValues.count >= 100 else { return empty }
        let reference = Statistics.median(Array(deepValues))
        // The head again, at a level set by the brain: muscle or fat darkened by the bias field no longer leaves gaps in the scalp.
        head = Self.largestComponent(voxels.map { $0 > headFraction * reference }, columns: columns, rows: rows, slices: slices)
        head = erode(dilate(head, scalpClosing), scalpClosing)
        head = Morphology.fillHolesPerSlice(head, columns: columns, rows: rows, slices: slices)
        head = Morphology.fillHoles(head, columns: columns, rows: rows, slices: slices)
        // 3–4. Tissue; opened until the part holding the deep region no longer reaches the scalp; grown back.
        let level = tissueFraction * reference
        let tissue = zip(head, voxels).map { $0 && $1 > level }
        let surface = Self.interiorSurface(
            of: head, depth: scalpDepth, columns: columns, rows: rows, slices: slices, radii: radii(scalpDepth))
        let surfaceCount = max(1, surface.lazy.filter { $0 }.count)
        var brain = empty, separated = false
        for radius in openingRadii {
            let opened = erode(tissue, radius)
            let (labels, count) = ConnectedComponents.label(opened, columns: columns, rows: rows, slices: slices)
            guard count > 0 else { break }
            // The part holding most of the deep region, and any other part (the brain cut in two by a necrotic lesion, a
            // lobe beyond a thin stalk) of at least `minimumFragment` mm³ that keeps clear of the scalp.
            let clearance = Self.interiorSurface(
                of: head, depth: scalpDepth + radius, columns: columns, rows: rows, slices: slices, radii: radii(scalpDepth + radius))
            var overlap = [Int](repeating: 0, count: count + 1), size = overlap, nearScalp = overlap
            for index in labels.indices where labels[index] > 0 {
                let label = Int(labels[index])
                size[label] += 1
                if deep[index] { overlap[label] += 1 }
                if clearance[index] { nearScalp[label] += 1 }
            }
            let chosen = (1...count).max { (overlap[$0], size[$0]) < (overlap[$1], size[$1]) }!
            let fragment = Int(minimumFragment / voxelVolume)
            let kept = (0...count).map { $0 == chosen || ($0 > 0 && size[$0] >= fragment && nearScalp[$0] == 0) }
            let grown = dilate(labels.map { kept[Int($0)] }, radius)
            let grownTissue = zip(grown, tissue).map { $0 && $1 }
            brain = grownTissue
            let touching = zip(grownTissue, surface).lazy.filter { $0 && $1 }.count
            separated = Double(touching) / Double(surfaceCount) <= maximumScalpContact
            if separated { break }
        }
        // 5. Closed, filled, grown through fluid and dura towards the inner table, but not into the tissue outside it.
        var closed = erode(dilate(brain, closingRadius), closingRadius)
        closed = Morphology.fillHoles(closed, columns: columns, rows: rows, slices: slices)
        closed = Morphology.fillHolesPerSlice(closed, columns: columns, rows: rows, slices: slices)
        let near = dilate(closed, freeMargin)
        let reach = dilate(closed, margin)
        // Still joined to the scalp (thick slices blur the skull away): no closer to the head's surface than scalp and skull can be.
        let limit = separated ? head : erode(head, skullDepth)
        return voxels.indices.map { limit[$0] && (near[$0] || (reach[$0] && !tissue[$0])) }
    }

    /// The band `depth` mm inside the head's outer surface, leaving out the volume's own faces (a field of view that cuts the head).
    static func interiorSurface(of head: [Bool], depth: Double, columns: Int, rows: Int, slices: Int, radii: (x: Int, y: Int, z: Int))
        -> [Bool]
    {
        let inner = Morphology.erode(head, columns: columns, rows: rows, slices: slices, radii: radii)
        let plane = columns * rows
        return head.indices.map { index in
            let x = index % columns, y = (index / columns) % rows, z = index / plane
            let nearFace =
                x < radii.x || y < radii.y || z < radii.z || x >= columns - radii.x || y >= rows - radii.y || z >= slices - radii.z
            return head[index] && !inner[index] && !nearFace
        }
    }

    static func largestComponent(_ mask: [Bool], columns: Int, rows: Int, slices: Int) -> [Bool] {
        let (labels, count) = ConnectedComponents.label(mask, columns: columns, rows: rows, slices: slices)
        guard count > 1 else { return mask }
        var sizes = [Int](repeating: 0, count: count + 1)
        for label in labels where label > 0 { sizes[Int(label)] += 1 }
        let largest = Int32((1...count).max { sizes[$0] < sizes[$1] }!)
        return labels.map { $0 == largest }
    }
}

extension Volume {
    /// The volume of the voxels a mask sets, mm³ (pixel area × each slice's thickness).
    public func measuredVolume(of mask: [Bool]) -> Double {
        let thicknesses = geometry.sliceThicknesses
        let plane = columns * rows
        let area = geometry.rowSpacing * geometry.columnSpacing
        var total = 0.0
        for slice in 0..<slices {
            var count = 0
            for index in slice * plane..<(slice + 1) * plane where mask[index] { count += 1 }
            total += Double(count) * area * thicknesses[slice]
        }
        return total
    }
}
