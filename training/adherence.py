"""Neural-network-free measurement of a generated clip, the same algorithm and thresholds as the
TypeScript bench (src/eval/adherence.ts, `npm run bench -- adherence`); a vitest test
(test/eval/adherence-python.test.ts) runs this file on the same clips and checks they agree.
Needs numpy only (dataset.py imports nothing else), so it runs where torch is not installed.

Per frame (rgb24, as the bench reads PNG frames): background = per-channel median of a 2-pixel
border ring; distance = RGB distance from it; object = the 4-connected component of pixels over
0.25 (0-1 units) with the largest summed distance, when it has at least 0.1% of the frame's
pixels (at least 4). Colour: its core pixels (at least 0.6 of its 90th-percentile distance) vote
for the nearest palette entry in CIELAB by CIE94 (dark greys vote for none); each frame's votes
count equally. Shape: asymmetry of the half-contrast mask (pixels whose 3x3 median distance is
at least 0.5 of the 90th-percentile distance: share of its pixels in its bounding box's upper or
left half, off 1/2) >= 0.09 -> triangle, else soft fill (coverage min(1, distance / p90) summed,
over the widest row's times the tallest column's) >= 0.88 -> square, else circle; frames vote,
frames touching the edge or under 3 px across abstain. Continuity: an object in every frame (not under
1/4 of the clip's median area or 1/2 of its median contrast), no second blob weighing 1/4 of
it, and no centroid step over 2 x max(median step, 1/4 of the object's equivalent radius).
Colour stability: the clip's colour is the frame colour of at least 85% of the frames.
Direction: least-squares centroid velocity x tracked span, 'none' under 4 px at 64 px width.

    python3 training/adherence.py --manifest clips.json   # [{"path", "width", "height", "frames"}] of raw rgb24 -> JSON
"""
import json
import math
import sys

import numpy as np

from dataset import BACKGROUNDS, COLOURS

THRESHOLDS = dict(
    min_object_fraction=0.001,
    shape_contour=0.5,
    triangle_min_asymmetry=0.09,
    square_min_fill=0.88,
    min_shape_extent=3,
    min_area_of_median=0.25,
    min_contrast_of_median=0.5,
    second_blob_weight=0.25,
    max_step_of_median=2,
    step_floor_of_radius=0.25,
    colour_stable_share=0.85,
)
MASK_THRESHOLD = 0.25
CORE_FRACTION = 0.6
MIN_DISPLACEMENT = 4.0  # px at 64 px width, scaled with the width
BORDER_WIDTH = 2
DARK_GREY_MAX_CHROMA = 10
DARK_GREY_MAX_LIGHTNESS = 45
SHAPES = ('circle', 'square', 'triangle')

# the dataset's clip geometries (dataset.py GEOMETRIES, env DEMO_GEOMETRY); sizes and speeds in the geometry's own pixels
GEOMETRIES = {
    'tiny': dict(frame_size=64, frames=9, half_extent=dict(small=6.5, large=11.0), speed=dict(slow=2.0, fast=4.0)),
    'v2': dict(frame_size=128, frames=17, half_extent=dict(small=12.0, large=18.0), speed=dict(slow=2.0, fast=4.0)),
}


def geometry_for_frame(width, height):
    """The geometry of the same frame size, else 'tiny' (scaled to the frame)."""
    side = min(width, height)
    return next((k for k, g in GEOMETRIES.items() if g['frame_size'] == side), 'tiny')


def size_area_fraction(g):
    """Object area splitting small from large, as a fraction of the frame: geometric mean of the largest small and smallest large shape."""
    def areas(r):
        return (math.pi * r ** 2, (1.7 * r) ** 2, 2.084 * r ** 2)
    return math.sqrt(max(areas(g['half_extent']['small'])) * min(areas(g['half_extent']['large']))) / g['frame_size'] ** 2


# ---- colour: sRGB bytes -> CIELAB (D65), CIE94 textiles weights (as src/eval/adherence-colour.ts)

def rgb_to_lab(rgb):
    """[..., 3] sRGB bytes (0-255) -> [..., 3] Lab."""
    v = np.asarray(rgb, np.float64) / 255
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    r, g, b = lin[..., 0], lin[..., 1], lin[..., 2]
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = (0.2126729 * r + 0.7151522 * g + 0.0721750 * b) / 1.0
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t):
        return np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)
    fx, fy, fz = f(x), f(y), f(z)
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], -1)


def delta_e94(ref, lab):
    """CIE94 difference of lab [..., 3] from one reference Lab colour."""
    c1 = math.hypot(ref[1], ref[2])
    c2 = np.hypot(lab[..., 1], lab[..., 2])
    dl, dc = ref[0] - lab[..., 0], c1 - c2
    da, db = ref[1] - lab[..., 1], ref[2] - lab[..., 2]
    dh2 = np.maximum(0, da * da + db * db - dc * dc)
    sc, sh = 1 + 0.048 * c1, 1 + 0.014 * c1
    return np.sqrt((dl / 2) ** 2 + (dc / sc) ** 2 + dh2 / (sh * sh))


def _palette(entries):
    names = list(entries)
    return names, [rgb_to_lab(np.array(entries[n]) * 255) for n in names]


COLOUR_NAMES, COLOUR_LABS = _palette(COLOURS)
BACKGROUND_NAMES, BACKGROUND_LABS = _palette(BACKGROUNDS)
UNNAMED = len(COLOUR_NAMES)


def nearest(labs, lab):
    """Index of the nearest palette entry per Lab colour (first on ties)."""
    d = np.stack([delta_e94(ref, lab) for ref in labs], -1)
    return np.argmin(d, -1)


def colour_votes(rgb):
    """[N, 3] core pixels -> palette index per pixel, UNNAMED for dark greys."""
    lab = rgb_to_lab(rgb)
    grey = (lab[:, 0] < DARK_GREY_MAX_LIGHTNESS) & (np.hypot(lab[:, 1], lab[:, 2]) < DARK_GREY_MAX_CHROMA)
    return np.where(grey, UNNAMED, nearest(COLOUR_LABS, lab))


# ---- per-frame segmentation

def _median(values):
    s = sorted(values)
    m = len(s) >> 1
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def _border(frame, ring):
    """Per-channel median of the border ring and the median distance (0-1 units) of its pixels from it."""
    h, w, _ = frame.shape
    keep = np.ones((h, w), bool)
    keep[ring:h - ring, ring:w - ring] = False
    px = frame[keep].astype(np.float64)
    med = np.median(px, 0)
    spread = float(np.median(np.sqrt(((px - med) ** 2).sum(1)))) / 255
    return med, spread


def _components(mask, weight, width, height):
    """4-connected components, heaviest first (scan order on ties): [(pixels, weight)], the same walk as the TypeScript."""
    seen = bytearray(len(mask))
    out = []
    for start in np.flatnonzero(mask).tolist():
        if seen[start]:
            continue
        pixels, total = [], 0.0
        seen[start] = 1
        stack = [start]
        while stack:
            p = stack.pop()
            pixels.append(p)
            total += weight[p]
            x = p % width
            y = (p - x) // width
            for ok, q in ((x > 0, p - 1), (x < width - 1, p + 1), (y > 0, p - width), (y < height - 1, p + width)):
                if ok and mask[q] and not seen[q]:
                    seen[q] = 1
                    stack.append(q)
        out.append((pixels, total))
    out.sort(key=lambda c: -c[1])
    return out


def shape_of(fill, asymmetry):
    if asymmetry >= THRESHOLDS['triangle_min_asymmetry']:
        return 'triangle'
    return 'square' if fill >= THRESHOLDS['square_min_fill'] else 'circle'


def _median3(dist, width, height):
    """3x3 median of a [H*W] float32 map, edge pixels repeated."""
    d = np.pad(dist.reshape(height, width), 1, mode='edge')
    stack = np.stack([d[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    return np.sort(stack, 0)[4].reshape(-1)


def _shape_features(blob, dist, p90, width, height):
    """(fill, asymmetry, votes) as src/eval/adherence.ts shapeFeatures."""
    cut = THRESHOLDS['shape_contour'] * p90
    sel = blob[_median3(dist, width, height)[blob] >= cut]
    if len(sel) == 0:
        return 0.0, 0.0, False
    xs, ys = sel % width, sel // width
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    bw, bh = x1 - x0 + 1, y1 - y0 + 1

    def share(v, lo, hi):
        mid = (lo + hi) / 2
        return float(((v < mid) + 0.5 * (v == mid)).sum()) / len(v)
    asymmetry = max(abs(share(ys, y0, y1) - 0.5), abs(share(xs, x0, x1) - 0.5))
    touches = x0 == 0 or y0 == 0 or x1 == width - 1 or y1 == height - 1
    # soft coverage: its total over the widest row's and the tallest column's
    c = np.minimum(1.0, dist[blob].astype(np.float64) / p90)
    rows = np.bincount(blob // width, c, height)
    cols = np.bincount(blob % width, c, width)
    fill = float(c.sum()) / (float(rows.max()) * float(cols.max()))
    return fill, asymmetry, (not touches) and min(bw, bh) >= THRESHOLDS['min_shape_extent']


def _slope(t, v):
    n = len(t)
    tm, vm = sum(t) / n, sum(v) / n
    num = sum((a - tm) * (b - vm) for a, b in zip(t, v))
    den = sum((a - tm) ** 2 for a in t)
    return num / den if den > 0 else 0.0


def _continuity(frames):
    T = THRESHOLDS
    found = [f for f in frames if f['centroid'] is not None]
    med_area = _median([f['area'] for f in found]) if found else 0
    med_contrast = _median([f['contrast'] for f in found]) if found else 0
    present = [f['centroid'] is not None and f['area'] >= T['min_area_of_median'] * med_area
               and f['contrast'] >= T['min_contrast_of_median'] * med_contrast for f in frames]
    steps = []
    for i in range(len(frames) - 1):
        a, b = frames[i]['centroid'], frames[i + 1]['centroid']
        steps.append(math.hypot(b[0] - a[0], b[1] - a[1]) if present[i] and present[i + 1] else None)
    measured = [s for s in steps if s is not None]
    med_step = _median(measured) if measured else 0
    max_step = T['max_step_of_median'] * max(med_step, T['step_floor_of_radius'] * math.sqrt(med_area / math.pi))
    return dict(
        missing_frames=[t for t, p in enumerate(present) if not p],
        multi_object_frames=[t for t, f in enumerate(frames) if f['centroid'] is not None and f['second_blob'] >= T['second_blob_weight']],
        steps=steps, median_step=med_step, max_step=max_step,
        jumps=[t for t, s in enumerate(steps) if s is not None and s > max_step])


def measure_frames(frames, geometry=None):
    """frames [T, H, W, 3] uint8 -> dict (see `measure`)."""
    frames = np.asarray(frames)
    assert frames.ndim == 4 and frames.shape[3] == 3 and frames.dtype == np.uint8, frames.shape
    t_count, height, width, _ = frames.shape
    threshold = MASK_THRESHOLD * 255
    min_pixels = max(4, round(THRESHOLDS['min_object_fraction'] * width * height))
    ring = max(1, min(BORDER_WIDTH, min(width, height) // 4))
    scale = width / 64
    g = GEOMETRIES[geometry or geometry_for_frame(width, height)]
    votes = np.zeros(UNNAMED + 1)
    frame_colours, per_frame = [], []
    core_sum, core_count, voting = np.zeros(3), 0, 0
    xs_all = np.arange(width * height) % width + 0.5
    ys_all = np.arange(width * height) // width + 0.5
    for frame in frames:
        bg, spread = _border(frame, ring)
        px = frame.reshape(-1, 3).astype(np.float64)
        d64 = np.sqrt(((px - bg) ** 2).sum(1))
        dist = d64.astype(np.float32)
        comps = _components((d64 > threshold).tolist(), dist.tolist(), width, height)
        empty = dict(background=bg.tolist(), background_spread=spread, centroid=None, area=0, contrast=0.0, second_blob=0.0,
                     colour=None, fill=None, asymmetry=None, shape=None)
        if not comps or len(comps[0][0]) < min_pixels:
            per_frame.append(empty)
            continue
        order, weight = comps[0]
        second = next((c for c in comps[1:] if len(c[0]) >= min_pixels), None)
        sw = sx = sy = 0.0
        dl = dist.tolist()
        for p in order:
            w = dl[p]
            sw += w
            sx += w * xs_all[p]
            sy += w * ys_all[p]
        blob = np.array(order)
        ds = np.sort(dist[blob])
        p90 = float(ds[min(len(ds) - 1, int(0.9 * len(ds)))])
        core = blob[dist[blob] >= CORE_FRACTION * p90]
        fv = np.bincount(colour_votes(frame.reshape(-1, 3)[core]), minlength=UNNAMED + 1)
        votes += fv / len(core)
        top = int(np.argmax(fv))
        frame_colours.append(top)
        core_sum += frame.reshape(-1, 3)[core].sum(0)
        core_count += len(core)
        voting += 1
        fill, asym, shape_votes = _shape_features(blob, dist, p90, width, height)
        per_frame.append(dict(empty, centroid=(sx / sw, sy / sw), area=len(order), contrast=p90,
                              second_blob=second[1] / weight if second else 0.0,
                              colour=None if top == UNNAMED else COLOUR_NAMES[top],
                              fill=fill, asymmetry=asym, shape=shape_of(fill, asym) if shape_votes else None))

    background = [float(np.median([f['background'][c] for f in per_frame])) for c in range(3)]
    background_name = BACKGROUND_NAMES[int(nearest(BACKGROUND_LABS, rgb_to_lab(np.array(background))))]
    tracked = [(t, f['centroid']) for t, f in enumerate(per_frame) if f['centroid'] is not None]
    continuity = _continuity(per_frame)
    out = dict(width=width, height=height, frames=per_frame, background=background, background_name=background_name,
               background_spread=_median([f['background_spread'] for f in per_frame]), continuity=continuity,
               geometry=geometry or geometry_for_frame(width, height),
               centroids=[f['centroid'] for f in per_frame])
    if len(tracked) < min(2, t_count) or core_count == 0:
        return dict(out, object_found=False, colour=None, colour_share=0.0, colour_stable=False, object_rgb=None,
                    shape=None, fill=None, asymmetry=None, continuous=False, direction='none',
                    velocity=(0.0, 0.0), displacement=(0.0, 0.0), speed_px_per_frame=0.0, speed=None, area=0, size=None)
    top = int(np.argmax(votes))
    colour_stable = sum(c == top for c in frame_colours) >= THRESHOLDS['colour_stable_share'] * len(frame_colours)
    voters = [f for f in per_frame if f['shape'] is not None]
    shape = fill = asym = None
    if voters:
        fill = _median([f['fill'] for f in voters])
        asym = _median([f['asymmetry'] for f in voters])
        counts = [sum(f['shape'] == s for f in voters) for s in SHAPES]
        leaders = [s for s, c in zip(SHAPES, counts) if c == max(counts)]
        shape = leaders[0] if len(leaders) == 1 else shape_of(fill, asym)
    continuous = not (continuity['missing_frames'] or continuity['multi_object_frames'] or continuity['jumps'])
    ts = [t for t, _ in tracked]
    velocity = (_slope(ts, [c[0] for _, c in tracked]), _slope(ts, [c[1] for _, c in tracked]))
    span = ts[-1] - ts[0]
    dx, dy = velocity[0] * span, velocity[1] * span
    direction = 'none'
    if len(tracked) >= 2 and math.hypot(dx, dy) >= MIN_DISPLACEMENT * scale:
        direction = ('right' if dx > 0 else 'left') if abs(dx) >= abs(dy) else ('down' if dy > 0 else 'up')
    speed_px = math.hypot(*velocity)
    area = _median([per_frame[t]['area'] for t in ts])
    speed_threshold = (g['speed']['slow'] + g['speed']['fast']) / 2
    return dict(out, object_found=True, colour=None if top == UNNAMED else COLOUR_NAMES[top],
                colour_share=float(votes[top]) / voting, colour_stable=bool(colour_stable),
                object_rgb=(core_sum / core_count).tolist(), shape=shape, fill=fill, asymmetry=asym,
                continuous=bool(continuous), direction=direction, velocity=velocity, displacement=(dx, dy),
                speed_px_per_frame=speed_px,
                speed=None if direction == 'none' else ('fast' if speed_px / (width / g['frame_size']) >= speed_threshold else 'slow'),
                area=area, size='large' if area / (width * height) >= size_area_fraction(g) else 'small')


def to_bytes(video):
    """video [3, T, H, W] in [-1, 1] -> frames [T, H, W, 3] uint8, as written to PNG."""
    v = np.clip(np.round((np.asarray(video, np.float64) + 1) / 2 * 255), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(v.transpose(1, 2, 3, 0))


def measure(video, geometry=None):
    """video [3, T, H, W] in [-1, 1] -> dict: colour, direction ('none' when it barely moves),
    shape, continuous, colour_stable, centroids (per frame, None where no object), displacement,
    and details (per frame and continuity; see measure_frames). Colour is None when no object is
    found or it is dark grey."""
    r = measure_frames(to_bytes(video), geometry)
    r['details'] = dict(frames=r['frames'], continuity=r['continuity'], fill=r['fill'], asymmetry=r['asymmetry'],
                        colour_share=r['colour_share'], velocity=r['velocity'], speed=r['speed'], size=r['size'],
                        background=r['background_name'])
    return r


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--manifest', required=True, help='JSON list of {"path", "width", "height", "frames"}: raw rgb24 clips')
    args = ap.parse_args(argv)
    results = []
    for clip in json.load(open(args.manifest)):
        raw = np.fromfile(clip['path'], np.uint8).reshape(clip['frames'], clip['height'], clip['width'], 3)
        results.append(measure_frames(raw, clip.get('geometry')))
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    _main(sys.argv[1:])
