"""Training images with randomised contrast, in the spirit of SynthSeg.

Billot et al. (Medical Image Analysis 86, 102789, 2023) train a segmentation
network only on images rendered from label maps with every tissue's
intensity, the resolution, noise, bias and deformation drawn at random, and
it generalises to real scans of any contrast. This module does the same for
metastases: `make_case(seed)` builds a label map of a head (the ellipsoid
anatomy of `synthetic_brain.py`, made richer: folded cortex, skull with
marrow, scalp fat and muscle, dura, sinuses, vessels, choroid plexus, 0–10
lesions 2–40 mm, solid, ring-enhancing or necrotic, with oedema) and renders
it with one of three contrast draws:

- T1 post-contrast-like: every tissue near its T1c value, jittered widely;
- FLAIR-like: likewise for FLAIR (CSF dark, flow voids; the lesion brighter
  or darker than its oedema, kept apart from it and from the brain);
- random: every label an independent uniform intensity, contrast inversion
  included, the lesion only kept apart from the tissue around it (so that a
  lesion is told by its shape and its edge, not by one intensity).

Then the acquisition is randomised: blur, thick slices along a random axis
(1–7 mm, slab-averaged), bias field, gamma, Rician noise, global scale.

This generator's anatomy and the held-out `mni_brain.py` share nothing: the
MNI generator is never used for training or tuning. Returns arrays on the
RAS 1.5 mm grid that training and the model card use.
"""
import numpy as np
from scipy import ndimage

from synthetic_brain import SPACING, SHAPE, _grid, _rotation, _smooth_noise

# Label codes of the anatomy.
AIR, SKIN, FAT, MUSCLE, BONE, MARROW, CSF, GREY, WHITE, DURA, VESSEL, CHOROID, DEEP_GREY = range(13)
OEDEMA, LESION, NECROSIS = 13, 14, 15
LABELS = 16

# Relative intensities (white matter = 1) and their spread, per contrast.
T1C = {AIR: 0, SKIN: 0.8, FAT: 1.3, MUSCLE: 0.5, BONE: 0.05, MARROW: 0.9, CSF: 0.25, GREY: 0.72, WHITE: 1.0, DURA: 1.5,
       VESSEL: 1.8, CHOROID: 1.5, DEEP_GREY: 0.82, OEDEMA: 0.78, LESION: 1.7, NECROSIS: 0.3}
FLAIR = {AIR: 0, SKIN: 0.9, FAT: 1.3, MUSCLE: 0.6, BONE: 0.05, MARROW: 1.0, CSF: 0.08, GREY: 1.25, WHITE: 1.0, DURA: 0.9,
         VESSEL: 0.15, CHOROID: 0.5, DEEP_GREY: 1.15, OEDEMA: 1.8, LESION: 1.45, NECROSIS: 0.7}


def _stamp(target, points, radius_mm, spacing):
    """Sets the voxels within radius of each point (mm, grid-centred) of a polyline."""
    shape = np.array(target.shape)
    reach = int(np.ceil(radius_mm / spacing))
    offsets = np.stack(np.meshgrid(*[np.arange(-reach, reach + 1)] * 3, indexing="ij"), -1).reshape(-1, 3)
    offsets = offsets[np.linalg.norm(offsets * spacing, axis=1) <= max(radius_mm, spacing / 2)]
    centres = np.round(np.asarray(points) / spacing + (shape - 1) / 2).astype(int)
    voxels = (centres[:, None, :] + offsets[None]).reshape(-1, 3)
    voxels = voxels[np.all((voxels >= 0) & (voxels < shape), axis=1)]
    target[voxels[:, 0], voxels[:, 1], voxels[:, 2]] = True


def _walk(rng, start, direction, length, step=0.75, wiggle=0.15):
    points = []
    point = np.array(start, float)
    direction = np.array(direction, float) / np.linalg.norm(direction)
    for _ in range(int(length / step)):
        direction += wiggle * rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        point = point + step * direction
        points.append(point.copy())
    return points


def make_labels(seed, shape=SHAPE, spacing=SPACING):
    """Returns (labels uint8, lesion instance map uint8, info) on the RAS grid."""
    rng = np.random.default_rng(seed)
    X, Y, Z = _grid(shape, spacing)
    rotation = _rotation(rng, 15)
    shift = rng.uniform(-8, 8, 3)
    P = np.stack([X - shift[0], Y - shift[1], Z - shift[2]], axis=-1) @ rotation
    x, y, z = P[..., 0], P[..., 1], P[..., 2]
    a, b, c = rng.uniform(58, 70), rng.uniform(74, 88), rng.uniform(56, 68)
    wobble = 1 + 0.035 * _smooth_noise(rng, shape, 10)
    radius = np.sqrt((x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2) * wobble
    # Depth below the brain surface, in mm (negative outside the brain).
    depth = (1 - radius) * (a + b + c) / 3
    csf_gap = rng.uniform(1.5, 4)
    dura_at = -csf_gap
    bone_inner = dura_at - 1.0
    skull = rng.uniform(4, 8)
    scalp = rng.uniform(3, 7)
    thickness_field = 1 + 0.25 * _smooth_noise(rng, shape, 8)

    labels = np.full(shape, AIR, np.uint8)
    outer = bone_inner - (skull + scalp) * thickness_field
    labels[depth > outer] = SKIN
    labels[depth > outer + 1.5] = FAT
    labels[(depth > outer + 1.5) & (depth < outer + 1.5 + scalp * rng.uniform(0.2, 0.5)) & (z < rng.uniform(-10, 30))] = MUSCLE
    skull_outer = bone_inner - skull * thickness_field
    labels[depth > skull_outer] = BONE
    labels[(depth > skull_outer + 1.5) & (depth < bone_inner - 1.5)] = MARROW
    labels[depth > bone_inner] = DURA
    labels[depth > dura_at] = CSF
    brain = depth > 0
    cortex = rng.uniform(2.5, 4.5)
    labels[brain] = GREY
    # Folds: sulci of CSF reaching into the cortex where a smooth field crosses zero.
    folds = _smooth_noise(rng, shape, 2.2)
    sulci = brain & (depth < cortex + 4) & (np.abs(folds) < rng.uniform(0.08, 0.2))
    labels[brain & (depth > cortex * (1 + 0.4 * folds))] = WHITE
    labels[sulci] = CSF
    # Deep grey nuclei and ventricles.
    for side in (-1, 1):
        nucleus = ((x - side * rng.uniform(12, 20)) / rng.uniform(6, 10)) ** 2 + ((y - rng.uniform(-8, 8)) / rng.uniform(10, 16)) ** 2 \
            + ((z - rng.uniform(-5, 8)) / rng.uniform(6, 10)) ** 2
        labels[nucleus <= 1] = DEEP_GREY
    ventricle_mask = np.zeros(shape, bool)
    for side in (-1, 1):
        vx, vy, vz = side * rng.uniform(5, 10), rng.uniform(-5, 5), rng.uniform(4, 14)
        v = ((x - vx) / rng.uniform(3, 8)) ** 2 + ((y - vy) / rng.uniform(16, 28)) ** 2 + ((z - vz) / rng.uniform(5, 10)) ** 2
        ventricle_mask |= v <= 1
    labels[ventricle_mask] = CSF
    choroid = ventricle_mask & (_smooth_noise(rng, shape, 1.5) > 1.2)
    labels[choroid] = CHOROID
    intracranial = depth > bone_inner

    # Dura enhancement patches, sinuses along the inner skull, vessels in sulci and deep.
    centre_of = (np.array(shape) - 1) / 2
    vessels = np.zeros(shape, bool)
    midline = intracranial & (depth < dura_at + 1.5) & (depth > bone_inner) & (np.abs(x) < rng.uniform(2.5, 4.5)) & (z > -c * 0.3)
    vessels |= midline
    transverse_z = rng.uniform(-0.5, -0.2) * c
    vessels |= intracranial & (depth < dura_at + 1.5) & (np.abs(z - transverse_z) < rng.uniform(2.5, 4)) & (y < -0.4 * b)
    for _ in range(rng.integers(4, 14)):
        start = rng.uniform(-0.8, 0.8, 3) * np.array([a, b, c])
        r = rng.uniform(0.6, 2.0)
        _stamp(vessels, _walk(rng, start, rng.standard_normal(3), rng.uniform(20, 90)), r, spacing)
    vessels &= intracranial
    labels[vessels] = VESSEL

    # Lesions.
    lesions = np.zeros(shape, np.uint8)
    count = 0 if rng.uniform() < 0.15 else int(rng.integers(1, 11))
    placed = []
    attempts = 0
    while len(placed) < count and attempts < 300:
        attempts += 1
        diameter = float(np.exp(rng.uniform(np.log(2.0), np.log(40.0))))
        index = np.array([rng.integers(6, n - 6) for n in shape])
        d = depth[tuple(index)]
        where = rng.uniform()
        if where < 0.08:  # dural: centred near the dura, half in the skull's shadow
            if not (dura_at - 1 < d < dura_at + diameter / 3):
                continue
        elif not (0 < d < 60):
            continue
        centre_mm = (index - centre_of) * spacing
        if any(np.linalg.norm(centre_mm - p) < (diameter + q) / 2 + 3 for p, q in placed):
            continue
        placed.append((centre_mm, diameter))
        half = int(np.ceil((diameter / 2 + 16) / spacing)) + 1
        lo, hi = np.maximum(index - half, 0), np.minimum(index + half + 1, shape)
        sl = tuple(slice(l, h) for l, h in zip(lo, hi))
        gx, gy, gz = np.meshgrid(*[np.arange(l, h) for l, h in zip(lo, hi)], indexing="ij")
        offsets = np.stack([gx - index[0], gy - index[1], gz - index[2]], -1) * spacing
        local = offsets @ _rotation(rng, 90) / rng.uniform(0.7, 1.3, 3)
        distance = np.linalg.norm(local, axis=-1)
        irregular = 1 + (rng.uniform(0.05, 0.2) * _smooth_noise(rng, distance.shape, 1.5) if diameter > 5 else 0)
        inside = (distance <= diameter / 2 * irregular) & intracranial[sl]
        if not inside.any():
            placed.pop()
            continue
        region = labels[sl]
        if diameter > 6 and rng.uniform() < 0.6:
            reach = rng.uniform(2, 6 + diameter / 2)
            oedema = (distance <= diameter / 2 * irregular + reach) & brain[sl] & ~inside & (region != CSF) \
                & (_smooth_noise(rng, distance.shape, 2) > -0.6)
            region[oedema] = OEDEMA
        region[inside] = LESION
        kind = rng.uniform()
        if diameter > 8 and kind < 0.55:  # ring-enhancing or necrotic: a core inside the rim
            rim = rng.uniform(1.2, 3.5) if kind < 0.4 else rng.uniform(0.8, 1.5)
            region[inside & (distance <= diameter / 2 * irregular - rim)] = NECROSIS
        lesions[sl][inside] = len(placed)
    info = {"lesions": [{"centre_mm": p.tolist(), "diameter_mm": q} for p, q in placed], "intracranial": intracranial,
            "head": labels != AIR}
    return labels, lesions, info


def render(labels, rng, spacing=SPACING, contrast=None):
    """An image of the label map with randomised contrast and acquisition; returns (image, contrast name).
    `contrast` ("t1c", "flair", "random") fixes the draw, as evaluation sets do for the sequences a model reads."""
    draw = rng.uniform()
    if contrast is not None:
        draw = {"t1c": 0.0, "flair": 0.5, "random": 0.9}[contrast]
    if draw < 0.4:
        contrast, table, spread = "t1c", T1C, 0.25
    elif draw < 0.7:
        contrast, table, spread = "flair", FLAIR, 0.25
    else:
        contrast, table, spread = "random", None, 0
    values = np.zeros(LABELS, np.float32)
    for label in range(LABELS):
        values[label] = rng.uniform(0, 1) if table is None else table[label] * rng.uniform(1 - spread, 1 + spread)
    values[AIR] = 0
    around = [values[WHITE], values[GREY], values[OEDEMA]]
    if contrast == "t1c":  # gadolinium: an enhancing lesion is brighter than the brain around it
        values[LESION] = max(values[LESION], max(around) * rng.uniform(1.15, 1.4))
    else:  # kept apart from what surrounds it, brighter or darker: on FLAIR the oedema is often the brightest
        for _ in range(50):
            if min(abs(values[LESION] - v) for v in around) >= 0.15 * (1 if table is None else max(around)):
                break
            values[LESION] = rng.uniform(0, 1) if table is None else table[LESION] * rng.uniform(0.6, 1.4)
    values[AIR] = 0
    shape = labels.shape
    image = values[labels]
    texture = _smooth_noise(rng, shape, rng.uniform(1, 3))
    image *= 1 + rng.uniform(0, 0.08) * texture
    # Within-tissue noise per label (SynthSeg's Gaussian per label), then the acquisition.
    image += rng.uniform(0, 0.04) * rng.standard_normal(shape).astype(np.float32) * (labels > 0)
    image = ndimage.gaussian_filter(image, rng.uniform(0.3, 1.0))
    X, Y, Z = _grid(shape, spacing)
    coefficients = rng.uniform(-0.3, 0.3, 6)
    gx, gy, gz = X / 100, Y / 100, Z / 100
    image *= np.exp(coefficients[0] * gx + coefficients[1] * gy + coefficients[2] * gz
                    + coefficients[3] * gx * gy + coefficients[4] * gy * gz + coefficients[5] * gz ** 2).astype(np.float32)
    thickness = rng.uniform(1, 7)
    if thickness > 2:
        axis = int(rng.integers(0, 3))
        width = max(1, int(round(thickness / spacing)))
        image = ndimage.uniform_filter1d(image, width, axis=axis)
        if rng.uniform() < 0.5:  # sampled at the slice spacing, then interpolated back
            taken = np.take(image, np.arange(0, shape[axis], width), axis=axis)
            zoom = [1, 1, 1]
            zoom[axis] = shape[axis] / taken.shape[axis]
            image = ndimage.zoom(taken, zoom, order=1)
            image = image[tuple(slice(0, n) for n in shape)]
            pad = [(0, n - m) for n, m in zip(shape, image.shape)]
            image = np.pad(image, pad, mode="edge")
    image = np.clip(image, 0, None) ** rng.uniform(0.75, 1.35)
    noise = rng.uniform(0, 0.06) * float(np.percentile(image[labels > 0], 90))
    if noise > 0:
        n1 = rng.standard_normal(shape).astype(np.float32) * noise
        n2 = rng.standard_normal(shape).astype(np.float32) * noise
        image = np.sqrt((image + n1) ** 2 + n2 ** 2)
    image = image * rng.uniform(100, 3000)
    return image.astype(np.float32), contrast


def make_case(seed, contrast=None):
    """(image float32, lesion mask uint8, info) like synthetic_brain.make_case, plus the label map and lesion instances in info."""
    labels, lesions, info = make_labels(seed)
    rng = np.random.default_rng([seed, 1])
    image, contrast = render(labels, rng, contrast=contrast)
    info["instances"] = lesions
    info["contrast"] = contrast
    info["labels"] = labels
    return image, (lesions > 0).astype(np.uint8), info
