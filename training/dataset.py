"""Procedural captioned video dataset: one shape moving in a straight line.

Every clip is a pure function of (seed, index): attributes, start position and
caption wording all come from `numpy.random.default_rng([seed, index])`, so any
clip can be re-rendered on its own. Frames are float32 in [-1, 1], layout
[3, T, H, W] (C, T, H, W), T = 9 by default (Wan's 1 + 4k frames).

Held-out combinations: the (colour, shape, direction) triples in HELD_OUT never
appear in the training split; every colour, shape and direction does appear in
other combinations. Evaluation captions are built from these triples.
"""
import numpy as np

import os

# Two video geometries: 'tiny' is the first demo model (64x64, 9 frames, 48 DiT tokens);
# 'v2' is the default demo model (128x128, 17 frames, 5x8x8 = 320 tokens) with larger shapes
# so that circle, square and triangle stay distinguishable after the VAE's 8x downsampling.
# Chosen per process by DEMO_GEOMETRY so every script renders the same clips.
GEOMETRIES = {
    'tiny': dict(size=64, frames=9, radii=(6.5, 11.0), jitter=6.0),
    'v2': dict(size=128, frames=17, radii=(12.0, 18.0), jitter=12.0),
}
GEOMETRY = os.environ.get('DEMO_GEOMETRY', 'tiny')
assert GEOMETRY in GEOMETRIES, f'DEMO_GEOMETRY must be one of {sorted(GEOMETRIES)}'
_G = GEOMETRIES[GEOMETRY]
FRAMES = _G['frames']
SIZE = _G['size']

COLOURS = {
    'red': (0.92, 0.12, 0.10),
    'green': (0.10, 0.78, 0.15),
    'blue': (0.15, 0.30, 1.00),
    'yellow': (0.98, 0.90, 0.10),
    'white': (0.97, 0.97, 0.97),
    'purple': (0.62, 0.18, 0.85),
}
BACKGROUNDS = {'dark': (0.07, 0.07, 0.10), 'light': (0.78, 0.78, 0.74)}
SHAPES = ('circle', 'square', 'triangle')
DIRECTIONS = {'right': (1, 0), 'left': (-1, 0), 'up': (0, -1), 'down': (0, 1)}  # (dx, dy), y grows downwards
SIZES = {'small': _G['radii'][0], 'large': _G['radii'][1]}  # half-extent in pixels
SPEEDS = {'slow': 2.0, 'fast': 4.0}  # pixels per frame
# 'centred' clips (what the DiT learns from) put the middle of the path at the frame centre, moved
# by at most this many pixels per axis; 'anywhere' clips (what the VAE learns from) start anywhere
# the whole path fits
CENTRED_JITTER = _G['jitter']
PLACEMENTS = ('anywhere', 'centred')

HELD_OUT = (
    ('red', 'circle', 'right'),
    ('green', 'square', 'left'),
    ('blue', 'triangle', 'up'),
    ('yellow', 'circle', 'down'),
    ('white', 'square', 'up'),
    ('purple', 'triangle', 'right'),
    ('red', 'triangle', 'down'),
    ('blue', 'circle', 'left'),
)

# every word the caption templates can produce (the tokenizer's vocabulary)
WORDS = sorted(set(
    ['a', 'the', 'moving', 'moves', 'sliding', 'going', 'to', 'on', 'background',
     'quickly', 'fast', 'slowly', 'slow'] + list(COLOURS) + list(BACKGROUNDS) + list(SHAPES)
    + list(DIRECTIONS) + list(SIZES)))


def caption(colour, shape, direction, size=None, speed=None, background=None, rng=None):
    """Plain-English caption; optional parts are included when given."""
    words = ['a']
    if size is not None:
        words.append(size)
    words += [colour, shape]
    verb = 'moving' if rng is None else ['moving', 'moving', 'moves', 'sliding', 'going'][rng.integers(5)]
    words.append(verb)
    if direction in ('left', 'right') and rng is not None and rng.random() < 0.3:
        words += ['to', 'the']
    words.append(direction)
    if speed is not None:
        fast = speed == 'fast'
        alt = rng is not None and rng.random() < 0.3
        words.append(('fast' if alt else 'quickly') if fast else ('slow' if alt else 'slowly'))
    if background is not None:
        words += ['on', 'a', background, 'background']
    return ' '.join(words)


def _mask(shape, cx, cy, r, size=SIZE):
    """Anti-aliased coverage in [0,1] of a shape centred at (cx, cy) with half-extent r."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    dx, dy = x - cx, y - cy
    if shape == 'circle':
        d = np.sqrt(dx * dx + dy * dy) - r
    elif shape == 'square':
        d = np.maximum(np.abs(dx), np.abs(dy)) - r * 0.85
    else:  # upward-pointing triangle: signed distance to three half-planes
        ys = dy + r * 0.15
        d = np.maximum(ys - r * 0.8, np.maximum(
            (-ys * 0.5 + dx * 0.866) - r * 0.55, (-ys * 0.5 - dx * 0.866) - r * 0.55))
    return np.clip(0.5 - d, 0.0, 1.0)


def render(colour, shape, direction, size, speed, background, x0, y0, frames=FRAMES):
    """-> (video [3, T, SIZE, SIZE] in [-1,1], object masks [T, SIZE, SIZE])."""
    dx, dy = DIRECTIONS[direction]
    v = SPEEDS[speed]
    r = SIZES[size]
    fg = np.array(COLOURS[colour], np.float32)[:, None, None]
    bg = np.array(BACKGROUNDS[background], np.float32)[:, None, None]
    video = np.empty((3, frames, SIZE, SIZE), np.float32)
    masks = np.empty((frames, SIZE, SIZE), np.float32)
    for t in range(frames):
        m = _mask(shape, x0 + dx * v * t, y0 + dy * v * t, r)
        masks[t] = m
        video[:, t] = bg * (1 - m) + fg * m
    return video * 2 - 1, masks


def sample_attributes(rng, held_out_split=False):
    """Draw attributes; the training split rejects HELD_OUT triples, the eval split uses only them."""
    while True:
        colour = list(COLOURS)[rng.integers(len(COLOURS))]
        shape = SHAPES[rng.integers(len(SHAPES))]
        direction = list(DIRECTIONS)[rng.integers(len(DIRECTIONS))]
        if ((colour, shape, direction) in HELD_OUT) == held_out_split:
            break
    size = list(SIZES)[rng.integers(2)]
    speed = list(SPEEDS)[rng.integers(2)]
    background = list(BACKGROUNDS)[rng.integers(2)]
    if colour == 'white' and background == 'light':
        background = 'dark'
    return dict(colour=colour, shape=shape, direction=direction, size=size, speed=speed, background=background)


def start_position(rng, attrs, frames=FRAMES, placement='anywhere'):
    """Start point so the whole object stays inside the frame for the whole clip."""
    r = SIZES[attrs['size']] + 1.5
    travel = SPEEDS[attrs['speed']] * (frames - 1)
    dx, dy = DIRECTIONS[attrs['direction']]

    def axis(d):
        lo, hi = r, SIZE - r
        if d > 0:
            hi -= travel
        elif d < 0:
            lo += travel
        if placement == 'centred':
            centred = SIZE / 2 - d * travel / 2 + float(rng.uniform(-CENTRED_JITTER, CENTRED_JITTER))
            return min(max(centred, lo), hi)
        return float(rng.uniform(lo, hi))
    return axis(dx), axis(dy)


def make_clip(seed, index, held_out_split=False, frames=FRAMES, placement='anywhere'):
    """-> dict(video, masks, caption, attrs) for clip `index` of the split seeded by `seed`."""
    assert placement in PLACEMENTS, placement
    rng = np.random.default_rng([seed, index, 1 if held_out_split else 0])
    attrs = sample_attributes(rng, held_out_split)
    x0, y0 = start_position(rng, attrs, frames, placement)
    video, masks = render(x0=x0, y0=y0, frames=frames, **attrs)
    # optional caption parts, each present about half the time
    cap = caption(attrs['colour'], attrs['shape'], attrs['direction'],
                  size=attrs['size'] if rng.random() < 0.5 else None,
                  speed=attrs['speed'] if rng.random() < 0.5 else None,
                  background=attrs['background'] if rng.random() < 0.5 else None, rng=rng)
    return dict(video=video, masks=masks, caption=cap, attrs=attrs, start=(x0, y0))


def held_out_captions():
    """The evaluation captions: one plain caption per held-out triple."""
    return [caption(c, s, d) for c, s, d in HELD_OUT]


if __name__ == '__main__':
    for i in range(8):
        print(make_clip(0, i)['caption'])
    print(held_out_captions())
    print(len(WORDS), WORDS)
