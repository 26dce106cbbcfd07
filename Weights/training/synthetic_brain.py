"""Synthetic contrast-enhanced T1 brain MR with metastasis-like lesions.

One case is a volume on a RAS grid (as MONAI's `Orientation(axcodes="RAS")`
lays it out: the first index grows towards the patient's right, the second
anterior, the third superior) with isotropic spacing, plus its truth mask.
Everything is seeded: `make_case(seed)` always gives the same case.

What a case holds:
- a head: scalp, skull (dark), CSF rim, cortex (grey matter), white matter,
  ventricles, and enhancing vessels and dura (the classical engine's false
  positives: bright, thin, not lesions);
- 0 to 6 lesions, 2–30 mm across, solid or ring-enhancing (a bright rim
  around a dark necrotic core, the whole lesion being the truth), with an
  irregular outline and sometimes surrounding oedema (darker);
- the acquisition: a point-spread blur, a smooth multiplicative bias field,
  Rician noise, a random global scale, and thick slices along a random axis
  (blur across the slice thickness, 1.5–6 mm).

Not a clinical simulator: intensities and shapes are plausible, not measured.
"""
import numpy as np
from scipy import ndimage

SPACING = 1.5
SHAPE = (112, 128, 104)  # 168 × 192 × 156 mm


def _grid(shape, spacing):
    axes = [(np.arange(n) - (n - 1) / 2) * spacing for n in shape]
    return np.meshgrid(*axes, indexing="ij")


def _rotation(rng, degrees):
    angles = np.deg2rad(rng.uniform(-degrees, degrees, 3))
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _smooth_noise(rng, shape, sigma_voxels):
    field = rng.standard_normal(shape).astype(np.float32)
    field = ndimage.gaussian_filter(field, sigma_voxels)
    return field / (field.std() + 1e-6)


def make_case(seed, shape=SHAPE, spacing=SPACING, lesions=None):
    """Returns (image float32, mask uint8, info dict) on a RAS grid of `spacing` mm."""
    rng = np.random.default_rng(seed)
    X, Y, Z = _grid(shape, spacing)
    rotation = _rotation(rng, 12)
    shift = rng.uniform(-8, 8, 3)
    P = np.stack([X - shift[0], Y - shift[1], Z - shift[2]], axis=-1) @ rotation
    x, y, z = P[..., 0], P[..., 1], P[..., 2]

    # Head radii (mm): left-right, anterior-posterior, inferior-superior.
    a, b, c = rng.uniform(66, 76), rng.uniform(82, 94), rng.uniform(62, 72)
    wobble = 1 + 0.03 * _smooth_noise(rng, shape, 12)

    def shell(scale_mm):
        return np.sqrt((x / (a + scale_mm)) ** 2 + (y / (b + scale_mm)) ** 2 + (z / (c + scale_mm)) ** 2) * wobble

    head = shell(14) <= 1
    skull_outer = shell(9) <= 1
    csf = shell(3) <= 1
    brain = shell(0) <= 1
    white = shell(-7) <= 1

    # Tissue intensities, T1 post-gadolinium, relative to white matter = 1.
    style = rng.uniform()
    if style < 0.15:  # a flat phantom: few tissues, no texture
        scalp, skull, csf_value, grey, wm = rng.uniform(0.3, 0.9), 0.0, rng.uniform(0.2, 0.9), 1.0, 1.0
    else:
        scalp, skull, csf_value = rng.uniform(0.6, 1.3), rng.uniform(0.02, 0.12), rng.uniform(0.15, 0.35)
        grey, wm = rng.uniform(0.7, 0.85), 1.0
    image = np.zeros(shape, np.float32)
    image[head] = scalp
    image[skull_outer] = skull
    image[csf] = csf_value
    texture = 0.04 * _smooth_noise(rng, shape, 3) if style >= 0.15 else 0
    image[brain] = (grey + texture)[brain] if style >= 0.15 else grey
    image[white] = (wm + texture)[white] if style >= 0.15 else wm
    # Ventricles: two lateral ellipsoids.
    if style >= 0.15:
        for side in (-1, 1):
            vx, vy, vz = side * rng.uniform(6, 10), rng.uniform(-5, 5), rng.uniform(2, 12)
            v = ((x - vx) / rng.uniform(4, 8)) ** 2 + ((y - vy) / rng.uniform(18, 28)) ** 2 + ((z - vz) / rng.uniform(6, 10)) ** 2
            image[v <= 1] = csf_value

    # Enhancing vessels and dura: thin bright curves (not lesions).
    enhancement = rng.uniform(1.35, 2.2)
    if style >= 0.15:
        dura = (shell(3.5) <= 1) & ~(shell(2.2) <= 1) & (_smooth_noise(rng, shape, 6) > 0.6)
        image[dura] = enhancement * rng.uniform(0.7, 1.0)
        for _ in range(rng.integers(3, 9)):
            start = rng.uniform(-1, 1, 3) * np.array([a, b, c]) * 0.7
            direction = rng.standard_normal(3)
            radius = rng.uniform(0.8, 1.6)
            for t in np.linspace(0, rng.uniform(30, 80), 60):
                direction += 0.25 * rng.standard_normal(3)
                point = start + t * direction / np.linalg.norm(direction)
                centre = np.round((point + (np.array(shape) - 1) / 2 * spacing) / spacing).astype(int)
                lo = np.maximum(centre - 2, 0)
                hi = np.minimum(centre + 3, shape)
                if np.any(lo >= hi):
                    continue
                sl = tuple(slice(l, h) for l, h in zip(lo, hi))
                gx, gy, gz = np.meshgrid(*[np.arange(l, h) for l, h in zip(lo, hi)], indexing="ij")
                d = np.sqrt((gx - centre[0]) ** 2 + (gy - centre[1]) ** 2 + (gz - centre[2]) ** 2) * spacing
                region = image[sl]
                inside = (d <= radius) & brain[sl]
                region[inside] = enhancement * rng.uniform(0.8, 1.0)

    # Lesions.
    mask = np.zeros(shape, np.uint8)
    count = rng.integers(0, 7) if lesions is None else lesions
    placed = []
    attempts = 0
    while len(placed) < count and attempts < 200:
        attempts += 1
        diameter = float(np.exp(rng.uniform(np.log(2.0), np.log(30.0))))
        index = np.array([rng.integers(8, n - 8) for n in shape])
        if not white[tuple(index)] and not (brain[tuple(index)] and rng.uniform() < 0.5):
            continue
        centre_mm = (index - (np.array(shape) - 1) / 2) * spacing
        if any(np.linalg.norm(centre_mm - p) < (diameter + d) / 2 + 4 for p, d in placed):
            continue
        placed.append((centre_mm, diameter))
        radius = diameter / 2
        half = int(np.ceil((radius + 6) / spacing)) + 1
        lo = np.maximum(index - half, 0)
        hi = np.minimum(index + half + 1, shape)
        sl = tuple(slice(l, h) for l, h in zip(lo, hi))
        gx, gy, gz = np.meshgrid(*[np.arange(l, h) for l, h in zip(lo, hi)], indexing="ij")
        offsets = np.stack([gx - index[0], gy - index[1], gz - index[2]], -1) * spacing
        axes = rng.uniform(0.75, 1.25, 3)
        lesion_rotation = _rotation(rng, 90)
        local = offsets @ lesion_rotation / axes
        distance = np.linalg.norm(local, axis=-1)
        irregular = 1 + (0.12 * _smooth_noise(rng, distance.shape, 1.5) if diameter > 6 else 0)
        inside = distance <= radius * irregular
        if not inside.any():
            inside[tuple(np.minimum(index - lo, np.array(inside.shape) - 1))] = True
        region = image[sl]
        if rng.uniform() < 0.4 and diameter > 8:  # oedema: hypointense rim around
            oedema = (distance <= radius * irregular + rng.uniform(3, 8)) & brain[sl] & ~inside
            region[oedema] *= rng.uniform(0.75, 0.9)
        value = enhancement * rng.uniform(0.85, 1.15)
        if diameter > 8 and rng.uniform() < 0.5:  # ring-enhancing: necrotic core
            rim = rng.uniform(1.5, 3.0)
            core = distance <= radius * irregular - rim
            region[inside] = value
            region[core] = rng.uniform(0.3, 0.6)
        else:
            region[inside] = value
        mask[sl][inside] = 1

    # Acquisition.
    image = ndimage.gaussian_filter(image, rng.uniform(0.3, 0.8))
    if style >= 0.15 or rng.uniform() < 0.5:
        gx, gy, gz = X / 100, Y / 100, Z / 100
        coefficients = rng.uniform(-0.25, 0.25, 6)
        bias = np.exp(coefficients[0] * gx + coefficients[1] * gy + coefficients[2] * gz
                      + coefficients[3] * gx * gy + coefficients[4] * gy * gz + coefficients[5] * gz ** 2)
        image = image * bias.astype(np.float32)
    thickness = rng.uniform(1.5, 6.0)
    if thickness > 2.0:
        axis = rng.integers(0, 3)
        image = ndimage.uniform_filter1d(image, max(1, int(round(thickness / spacing))), axis=axis)
    noise = rng.uniform(0.0, 0.06) if style >= 0.15 else rng.uniform(0.0, 0.02)
    if noise > 0:
        n1 = rng.standard_normal(shape).astype(np.float32) * noise
        n2 = rng.standard_normal(shape).astype(np.float32) * noise
        image = np.sqrt((image + n1) ** 2 + n2 ** 2)
    image = image * rng.uniform(100, 2000)
    info = {"lesions": [{"centre_mm": p.tolist(), "diameter_mm": d} for p, d in placed], "style": "flat" if style < 0.15 else "textured",
            "head": head, "intracranial": csf}
    return image.astype(np.float32), mask, info
