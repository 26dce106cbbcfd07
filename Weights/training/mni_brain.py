"""Brain MR phantoms on real anatomy, written as DICOM series: the held-out generator.

    pip install numpy scipy pydicom==3.0.1 nilearn
    python3 Weights/training/make_cases.py --generator mni --out DIR [--seeds 30000000:30000020] [--contrasts t1c,flair]

Built differently from `synthetic_brain.py` and `randomised_brain.py` (which
train the shipped model) on purpose; no case of this generator is ever used
for training or for choosing a threshold, size or post-processing setting.

- Anatomy: the MNI ICBM152 2009a template (T1 and grey/white-matter maps,
  read offline from nilearn's wheel), randomly deformed (affine and a smooth
  elastic field). The template is skull-stripped, so cerebrospinal fluid,
  dura, skull (inner table, marrow, outer table), temporal muscle,
  subcutaneous fat and skin are synthesised around it with thicknesses that
  vary over the head.
- Vessels: superior sagittal, transverse and straight sinuses along the
  dura, cortical veins, middle cerebral arteries, small deep vessels,
  choroid plexus.
- Lesions: 0–10 per brain (a fifth of the heads healthy), 2–40 mm, at the
  grey/white junction, in the cortex, anywhere in the brain or on the dura;
  solid, ring-enhancing or necrotic, lobulated, with oedema along the white
  matter. The truth is the whole lesion (rim and core), not the oedema.
- Contrasts: T1 post-contrast, FLAIR, T2 and T1 without contrast (on which
  lesions are not bright), each tissue's value jittered per case.
- Acquisition: axial, sagittal, coronal or oblique planes; 0.8–1.25 mm
  pixels; 1–6 mm slices (slab-averaged); in-plane blur, ghosting from
  motion, bias field, Rician noise; stored as 12-bit with or without a
  rescale slope; sequence attributes (TR, TE, TI, contrast agent, scanning
  sequence) and protocol names as scanners write them, some empty.

Cases are written in the format of `cases.py` (series, truth.npy, case.json).
"""
import os
import sys

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

CONTRASTS = ("t1c", "flair", "t2", "t1")
# Relative intensities (white matter = 1): CSF, grey, dura, sinus, artery, choroid, bone, marrow, fat, muscle, skin.
TISSUES = ("csf", "grey", "dura", "sinus", "artery", "choroid", "bone", "marrow", "fat", "muscle", "skin")
TABLES = {
    "t1c": dict(csf=0.25, grey=0.7, dura=1.4, sinus=1.9, artery=1.7, choroid=1.5, bone=0.04, marrow=0.85, fat=1.3, muscle=0.5,
                skin=0.8, lesion=(1.5, 2.2), necrosis=(0.2, 0.45), oedema=0.8),
    "t1": dict(csf=0.25, grey=0.7, dura=0.6, sinus=0.35, artery=0.1, choroid=0.6, bone=0.04, marrow=0.85, fat=1.3, muscle=0.5,
               skin=0.8, lesion=(0.6, 0.85), necrosis=(0.3, 0.4), oedema=0.8),
    "flair": dict(csf=0.07, grey=1.25, dura=0.8, sinus=0.1, artery=0.08, choroid=0.6, bone=0.04, marrow=0.8, fat=1.2, muscle=0.55,
                  skin=0.8, lesion=(1.3, 1.7), necrosis=(0.4, 1.0), oedema=(1.6, 2.0)),
    "t2": dict(csf=2.8, grey=1.4, dura=0.7, sinus=0.15, artery=0.08, choroid=1.5, bone=0.04, marrow=1.1, fat=1.5, muscle=0.6,
               skin=0.9, lesion=(1.1, 1.5), necrosis=(2.0, 2.6), oedema=(1.8, 2.2)),
}
DESCRIPTIONS = {
    "t1c": ["T1 MPRAGE GADO", "AX T1 3D FSPGR +C", "T1 SE GADO", "t1_mprage_sag_p2_iso post", "T1 3D INJ", "T1 IR Gd", ""],
    "t1": ["T1 MPRAGE", "SAG T1 SE", "T1 3D SANS INJECTION", "AX T1", ""],
    "flair": ["AX T2 FLAIR", "3D FLAIR", "t2_space_dark-fluid_sag", "FLAIR TRA", "T2 FLAIR 3D", ""],
    "t2": ["AX T2 TSE", "T2 FSE", "t2_tse_tra", "T2 AXIAL", ""],
}
MARGIN = 26  # mm of head around the template's brain mask

_templates = None


def templates():
    """The template's T1, grey and white matter maps and brain mask (1 mm, RAS, world mm = index + offset)."""
    global _templates
    if _templates is None:
        from nilearn import datasets
        t1 = datasets.load_mni152_template(resolution=1)
        grey = datasets.load_mni152_gm_template(resolution=1).get_fdata().astype(np.float32)
        white = datasets.load_mni152_wm_template(resolution=1).get_fdata().astype(np.float32)
        mask = datasets.load_mni152_brain_mask(resolution=1).get_fdata().astype(np.float32)
        box = np.argwhere(mask > 0)
        lo, hi = box.min(0), box.max(0) + 1
        pad = [(MARGIN, MARGIN)] * 3
        pad[2] = (0, MARGIN)  # the template ends at the brainstem: so does the phantom
        crop = tuple(slice(l, h) for l, h in zip(lo, hi))
        arrays = [np.pad(a[crop], pad) for a in (t1.get_fdata().astype(np.float32), grey, white, mask)]
        origin = t1.affine[:3, 3] + lo - np.array([p[0] for p in pad])
        _templates = dict(t1=arrays[0], grey=arrays[1], white=arrays[2], mask=arrays[3], origin=origin)
    return _templates


def _noise(rng, shape, coarse=8):
    """Smooth noise of unit spread, made on a coarse grid and interpolated."""
    small = rng.standard_normal([max(2, n // coarse) for n in shape]).astype(np.float32)
    small = ndimage.gaussian_filter(small, 1)
    field = ndimage.zoom(small, [n / m for n, m in zip(shape, small.shape)], order=1)
    field = field[: shape[0], : shape[1], : shape[2]]
    return field / (field.std() + 1e-6)


def _deform(rng, arrays):
    """One random affine and elastic deformation applied to every array (linear interpolation)."""
    shape = arrays[0].shape
    centre = (np.array(shape) - 1) / 2
    angles = np.deg2rad(rng.uniform(-8, 8, 3))
    c, s = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, c[0], -s[0]], [0, s[0], c[0]]])
    ry = np.array([[c[1], 0, s[1]], [0, 1, 0], [-s[1], 0, c[1]]])
    rz = np.array([[c[2], -s[2], 0], [s[2], c[2], 0], [0, 0, 1]])
    matrix = rz @ ry @ rx @ np.diag(1 / rng.uniform(0.9, 1.1, 3))
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij"))
    offset = grid - centre[:, None, None, None]
    source = np.einsum("ij,jxyz->ixyz", matrix.astype(np.float32), offset) + centre[:, None, None, None]
    strength = rng.uniform(1.5, 4)
    for axis in range(3):
        source[axis] += strength * _noise(rng, shape, 16)
    return [ndimage.map_coordinates(a, source, order=1, mode="constant") for a in arrays]


def _stamp(target, points, radius, origin):
    """Marks the voxels within `radius` mm of each point (world mm) of a polyline."""
    shape = np.array(target.shape)
    reach = int(np.ceil(radius))
    offsets = np.stack(np.meshgrid(*[np.arange(-reach, reach + 1)] * 3, indexing="ij"), -1).reshape(-1, 3)
    offsets = offsets[np.linalg.norm(offsets, axis=1) <= max(radius, 0.5)]
    centres = np.round(np.asarray(points) - origin).astype(int)
    voxels = (centres[:, None, :] + offsets[None]).reshape(-1, 3)
    voxels = voxels[np.all((voxels >= 0) & (voxels < shape), axis=1)]
    target[voxels[:, 0], voxels[:, 1], voxels[:, 2]] = True


def _walk(rng, start, direction, length, wiggle=0.12):
    points, point = [], np.array(start, float)
    direction = np.array(direction, float) / np.linalg.norm(direction)
    for _ in range(int(length / 0.7)):
        direction = direction + wiggle * rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        point = point + 0.7 * direction
        points.append(point.copy())
    return points


def make_head(seed, contrast=None, healthy=None):
    """The phantom on its 1 mm RAS grid: dict(image, lesions, intracranial, head, origin, info)."""
    rng = np.random.default_rng(seed)
    t = templates()
    t1, grey, white, mask = _deform(rng, [t["t1"], t["grey"], t["white"], t["mask"]])
    origin = t["origin"]
    shape = mask.shape
    world = [origin[a] + np.arange(shape[a], dtype=np.float32) for a in range(3)]
    X, Y, Z = np.meshgrid(*world, indexing="ij", sparse=True)
    brain = mask > 0.5
    grey, white = np.clip(grey, 0, 1), np.clip(white, 0, 1)
    csf = np.clip(mask - grey - white, 0, 1)
    outside = ndimage.distance_transform_edt(~brain).astype(np.float32)
    inside = ndimage.distance_transform_edt(brain).astype(np.float32)
    vary = lambda mean, spread: mean * (1 + spread * _noise(rng, shape))  # noqa: E731
    gap = np.clip(vary(rng.uniform(1.5, 3.5), 0.3), 0.8, None)
    dura_edge = gap + rng.uniform(0.8, 1.3)
    bone = np.clip(vary(rng.uniform(5, 9), 0.25), 3, None)
    skull_edge = dura_edge + bone
    scalp_edge = skull_edge + np.clip(vary(rng.uniform(4, 8), 0.3), 2, None)
    intracranial = brain | (outside <= dura_edge)
    head = intracranial | (outside <= scalp_edge)

    contrast = contrast or rng.choice(CONTRASTS, p=[0.45, 0.3, 0.1, 0.15])
    table = {k: (rng.uniform(*v) if isinstance(v, tuple) else v * rng.uniform(0.9, 1.1)) for k, v in TABLES[contrast].items()}
    # Brain: partial-volume mixture, and on T1 weighting the template itself (deep grey nuclei).
    parenchyma = grey * table["grey"] + white * 1.0 + csf * table["csf"]
    if contrast in ("t1", "t1c"):
        reference = np.median(t1[white > 0.9]) if (white > 0.9).any() else 1
        parenchyma = 0.5 * parenchyma + 0.5 * np.where(brain, t1 / reference, 0) * (grey + white + csf)
    parenchyma *= 1 + 0.03 * _noise(rng, shape, 3)
    image = np.where(brain, parenchyma, 0).astype(np.float32)
    shell = ~brain
    image[shell & (outside <= gap)] = table["csf"]
    image[shell & (outside > gap) & (outside <= dura_edge)] = table["dura"]
    in_bone = shell & (outside > dura_edge) & (outside <= skull_edge)
    image[in_bone] = table["bone"]
    image[in_bone & (outside > dura_edge + 1.5) & (outside < skull_edge - 1.5)] = table["marrow"]
    in_scalp = shell & (outside > skull_edge) & (outside <= scalp_edge)
    image[in_scalp] = table["fat"]
    image[in_scalp & (outside <= skull_edge + 1.5) & (np.abs(X) > 45) & (Z < 30) & (Z > -30)] = table["muscle"]
    image[in_scalp & (outside > scalp_edge - 1.2)] = table["skin"]

    # Vessels.
    sinus = np.zeros(shape, bool)
    band = shell & (outside > gap - 1) & (outside <= dura_edge + 2.5)
    sinus |= band & (np.abs(X) < rng.uniform(3, 4.5)) & ((Z > 15) | ((Y < -70) & (Z > -20)))
    level = rng.uniform(-22, -10)
    sinus |= band & (np.abs(Z - level + 0.12 * np.abs(X)) < rng.uniform(2.5, 3.5)) & (Y < -55)
    _stamp(sinus, np.linspace([0, -45, 8], [0, -95, level + 2], 80), rng.uniform(2, 3), origin)
    arteries = np.zeros(shape, bool)
    for side in (-1, 1):
        _stamp(arteries, _walk(rng, [side * 12, 2, -14], [side, 0.1, 0.35], rng.uniform(40, 60)), rng.uniform(1.0, 1.6), origin)
    surface = np.argwhere(brain & (inside < 2) & (Z > -20))
    for _ in range(rng.integers(4, 12)):
        start = surface[rng.integers(len(surface))] + origin
        vein = np.zeros(shape, bool)
        _stamp(vein, _walk(rng, start, rng.standard_normal(3), rng.uniform(20, 70), 0.2), rng.uniform(0.7, 1.5), origin)
        sinus |= vein & (outside <= dura_edge) & (inside < 4)
    deep = np.argwhere(brain & (csf > 0.4))
    for _ in range(rng.integers(3, 10)):
        start = deep[rng.integers(len(deep))] + origin
        _stamp(arteries, _walk(rng, start, rng.standard_normal(3), rng.uniform(10, 40)), rng.uniform(0.5, 1.0), origin)
    arteries &= intracranial
    sinus &= intracranial
    choroid = brain & (csf > 0.7) & (inside > 12) & (_noise(rng, shape, 3) > 1.2)
    image[arteries] = table["artery"]
    image[sinus] = table["sinus"]
    image[choroid] = table["choroid"]

    # Lesions.
    lesions = np.zeros(shape, np.uint8)
    wanted = 0 if (healthy if healthy is not None else rng.uniform() < 0.2) else int(rng.integers(1, 11))
    placed, records, attempts = [], [], 0
    while len(placed) < wanted and attempts < 400:
        attempts += 1
        diameter = float(np.exp(rng.uniform(np.log(2), np.log(40))))
        where = rng.choice(["junction", "cortex", "brain", "dura"], p=[0.55, 0.2, 0.15, 0.1])
        if where == "junction":
            pool = brain & (grey > 0.3) & (grey < 0.7) & (white > 0.3)
        elif where == "cortex":
            pool = brain & (grey > 0.6)
        elif where == "brain":
            pool = brain & (inside > diameter / 2)
        else:
            pool = shell & (outside > gap) & (outside <= dura_edge)
        candidates = np.argwhere(pool[::3, ::3, ::3]) * 3
        if not len(candidates):
            continue
        index = candidates[rng.integers(len(candidates))]
        centre = index + origin
        if any(np.linalg.norm(centre - p) < (diameter + q) / 2 + 3 for p, q in placed):
            continue
        half = int(np.ceil(diameter / 2 * 1.4 + diameter + 8))
        lo, hi = np.maximum(index - half, 0), np.minimum(index + half + 1, shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        g = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1) - index
        shape_field = np.full(g.shape[:3], np.inf, np.float32)
        for lobe in range(1 if diameter < 8 else rng.integers(1, 4)):
            shift = rng.standard_normal(3) * diameter * (0.18 if lobe else 0)
            axes = diameter / 2 * rng.uniform(0.7, 1.2, 3) * (1 if lobe == 0 else rng.uniform(0.5, 0.8))
            q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
            local = (g - shift) @ q / axes
            shape_field = np.minimum(shape_field, np.linalg.norm(local, axis=-1))
        if diameter > 5:
            shape_field *= 1 + rng.uniform(0.04, 0.15) * _noise(rng, shape_field.shape, 2)
        solid = (shape_field <= 1) & intracranial[box]
        if solid.sum() < 2:
            continue
        placed.append((centre, diameter))
        number = len(placed)
        region = image[box]
        kind = "solid"
        if diameter > 6 and rng.uniform() < 0.7:
            reach = rng.uniform(0.3, 1.5) * diameter
            distance = ndimage.distance_transform_edt(~solid)
            oedema = (distance <= reach) & ~solid & brain[box] & (white[box] > 0.35) & (_noise(rng, solid.shape, 3) > -0.8)
            factor = table["oedema"]
            region[oedema] = np.where(grey[box][oedema] > 0.5, factor * 0.9, factor) if contrast in ("flair", "t2") \
                else region[oedema] * factor
        region[solid] = table["lesion"] * rng.uniform(0.92, 1.08)
        if diameter > 8 and rng.uniform() < 0.7:
            kind = "ring" if rng.uniform() < 0.7 else "necrotic"
            rim = rng.uniform(1.5, 4) if kind == "ring" else rng.uniform(0.8, 1.5)
            core = ndimage.distance_transform_edt(solid) > rim
            region[core] = table["necrosis"] * rng.uniform(0.9, 1.1)
        region[solid] *= 1 + 0.05 * _noise(rng, solid.shape, 2)[solid]
        lesions[box][solid & (lesions[box] == 0)] = number
        records.append({"number": number, "centre_ras_mm": centre.tolist(), "diameter_mm": diameter, "where": str(where), "kind": kind})
    info = {"generator": "mni", "seed": int(seed), "contrast": str(contrast), "lesions": records}
    return dict(image=image, lesions=lesions, intracranial=intracranial, head=head, origin=origin, info=info)


ORIENTATIONS = {
    # Row and column directions in LPS, as scanners write ImageOrientationPatient.
    "axial": ([1, 0, 0], [0, 1, 0]),
    "sagittal": ([0, 1, 0], [0, 0, -1]),
    "coronal": ([1, 0, 0], [0, 0, -1]),
}


def acquire(phantom, rng, orientation=None, thickness=None, pixel=None):
    """Samples the phantom as an MR series: (slices, truth codes, geometry, acquisition info)."""
    orientation = orientation or rng.choice(["axial", "sagittal", "coronal", "oblique"], p=[0.4, 0.2, 0.2, 0.2])
    base = rng.choice(["axial", "sagittal", "coronal"]) if orientation == "oblique" else orientation
    row, column = (np.array(v, float) for v in ORIENTATIONS[base])
    if orientation == "oblique":
        axis = rng.standard_normal(3)
        axis /= np.linalg.norm(axis)
        angle = np.deg2rad(rng.uniform(10, 30))
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
        row, column = rotation @ row, rotation @ column
    normal = np.cross(row, column)
    thickness = float(thickness or rng.uniform(1, 6))
    spacing = thickness * (1 if rng.uniform() < 0.6 else rng.uniform(1.0, 1.2))
    drawn = float(rng.uniform(0.8, 1.25))
    pixel = float(pixel or drawn)
    fov = float(rng.uniform(220, 250))
    size = int(round(fov / pixel))
    image = ndimage.gaussian_filter(phantom["image"], rng.uniform(0.3, 0.7))
    origin_ras = phantom["origin"]
    head_points = np.argwhere(phantom["head"][::4, ::4, ::4]) * 4 + origin_ras
    head_lps = head_points * np.array([-1, -1, 1])
    centre = head_lps.mean(0) + rng.uniform(-5, 5, 3)
    along = head_lps @ normal
    first, last = along.min() - 3, along.max() + 3
    count = int(np.ceil((last - first) / spacing)) + 1
    corner = centre - (size - 1) / 2 * pixel * (row + column)
    corner = corner + (first - corner @ normal) * normal
    samples = max(1, int(np.ceil(thickness / 0.75)))
    profile = (np.arange(samples) + 0.5) / samples * thickness - thickness / 2
    c, r = np.meshgrid(np.arange(size) * pixel, np.arange(size) * pixel)  # [rows, columns]
    slices = np.zeros((count, size, size), np.float32)
    truth = np.zeros((count, size, size), np.uint8)
    codes = cases.truth_codes(phantom["head"], phantom["intracranial"], phantom["lesions"])
    for k in range(count):
        value = np.zeros((size, size), np.float32)
        votes = []
        for offset in profile:
            point = corner[None, None] + c[..., None] * row + r[..., None] * column + (k * spacing + offset) * normal
            ras = point * np.array([-1, -1, 1]) - origin_ras
            coordinates = ras.reshape(-1, 3).T
            value += ndimage.map_coordinates(image, coordinates, order=1, mode="constant").reshape(size, size)
            votes.append(ndimage.map_coordinates(codes, coordinates, order=0, mode="constant").reshape(size, size))
        slices[k] = value / samples
        votes = np.stack(votes)
        # The code most of the slab holds (lesions first, then intracranial, head).
        lesion_votes = votes >= cases.FIRST_LESION
        label = np.where(lesion_votes.sum(0) * 2 >= samples, np.max(np.where(lesion_votes, votes, 0), 0), 0)
        intracranial_votes = (votes >= cases.INTRACRANIAL).sum(0) * 2 >= samples
        head_votes = (votes >= cases.HEAD).sum(0) * 2 >= samples
        truth[k] = np.where(label > 0, label, np.where(intracranial_votes, cases.INTRACRANIAL, np.where(head_votes, cases.HEAD, 0)))
    # Motion: a ghost of the head along the phase-encoding direction.
    motion = rng.uniform() < 0.25
    if motion:
        axis = int(rng.integers(1, 3))
        slices = slices + rng.uniform(0.05, 0.15) * np.roll(slices, int(size * rng.uniform(0.2, 0.5)), axis=axis)
    # Bias field and Rician noise.
    kk, rr, cc = np.meshgrid(np.linspace(-1, 1, count), np.linspace(-1, 1, size), np.linspace(-1, 1, size), indexing="ij", sparse=True)
    a = rng.uniform(-0.3, 0.3, 6)
    slices *= np.exp(a[0] * kk + a[1] * rr + a[2] * cc + a[3] * kk * rr + a[4] * rr * cc + a[5] * cc ** 2).astype(np.float32)
    sigma = rng.uniform(0.01, 0.05)
    slices = np.sqrt((slices + sigma * rng.standard_normal(slices.shape)) ** 2 + (sigma * rng.standard_normal(slices.shape)) ** 2)
    slices = (slices * rng.uniform(300, 1500)).astype(np.float32)
    geometry = {"origin": corner.tolist(), "row": row.tolist(), "column": column.tolist(), "pixel": pixel,
                "slice_spacing": float(spacing), "thickness": thickness}
    acquisition = {"orientation": str(orientation), "plane": str(base), "thickness_mm": thickness, "slice_spacing_mm": float(spacing),
                   "pixel_mm": pixel, "slices": count, "motion": bool(motion)}
    return slices, truth, geometry, acquisition


def sequence_attributes(rng, contrast, thickness):
    """What a scanner writes about the sequence: protocol name, TR/TE/TI, contrast agent."""
    description = str(rng.choice(DESCRIPTIONS[contrast]))
    three_d = thickness <= 1.6
    attributes = {"SeriesDescription": description, "ProtocolName": description, "MRAcquisitionType": "3D" if three_d else "2D",
                  "MagneticFieldStrength": str(rng.choice(["1.5", "3"]))}
    if contrast in ("t1", "t1c"):
        if three_d:
            attributes.update(ScanningSequence=["GR", "IR"], SequenceVariant=["SP", "MP"], RepetitionTime="2300", EchoTime="2.98",
                              InversionTime="900", FlipAngle="9")
        else:
            attributes.update(ScanningSequence="SE", SequenceVariant=["SK", "SP"], RepetitionTime="550", EchoTime="12", FlipAngle="90")
        if contrast == "t1c":
            attributes.update(ContrastBolusAgent=str(rng.choice(["DOTAREM", "Gadovist 1.0", "gadoterate meglumine", "Gd"])),
                              ContrastBolusVolume="15")
    elif contrast == "flair":
        attributes.update(ScanningSequence=["SE", "IR"], SequenceVariant=["SK", "SP", "MP"], RepetitionTime=str(int(rng.uniform(4800, 9000))),
                          EchoTime=str(int(rng.uniform(90, 140))), InversionTime=str(int(rng.uniform(1600, 2500))), FlipAngle="150")
    else:
        attributes.update(ScanningSequence="SE", SequenceVariant=["SK", "SP"], RepetitionTime=str(int(rng.uniform(3000, 6000))),
                          EchoTime=str(int(rng.uniform(80, 120))), FlipAngle="150")
    return attributes


def write(seed, folder, contrast=None, orientation=None, thickness=None, healthy=None, pixel=None):
    phantom = make_head(seed, contrast=contrast, healthy=healthy)
    rng = np.random.default_rng([seed, 2])
    slices, truth, geometry, acquisition = acquire(phantom, rng, orientation, thickness, pixel)
    info = phantom["info"]
    visible = sorted(set(int(v) - cases.FIRST_LESION + 1 for v in np.unique(truth) if v >= cases.FIRST_LESION))
    for record in info["lesions"]:
        record["visible_in_series"] = record["number"] in visible
    info["acquisition"] = acquisition
    cases.write_case(folder, slices, truth, geometry, sequence_attributes(rng, info["contrast"], geometry["thickness"]), info)
    return info
