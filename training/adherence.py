"""Neural-network-free measurement of a generated clip: object colour and motion direction.

Background = median colour of the frame border; object = pixels far from it;
colour = nearest palette entry to the mean object colour; direction = dominant
axis of the object centroid's displacement from the first to the last frame.
"""
import numpy as np

from dataset import COLOURS, DIRECTIONS


def measure(video):
    """video [3, T, H, W] in [-1, 1] -> dict(colour, direction, centroids) (None when no object is found)."""
    rgb = (np.clip(video, -1, 1) + 1) / 2
    t = rgb.shape[1]
    cents, cols = [], []
    for f in range(t):
        fr = rgb[:, f]
        border = np.concatenate([fr[:, 0], fr[:, -1], fr[:, :, 0], fr[:, :, -1]], axis=1)
        bg = np.median(border, axis=1)
        dist = np.sqrt(((fr - bg[:, None, None]) ** 2).sum(0))
        m = dist > 0.25
        if m.sum() < 4:
            cents.append(None)
            continue
        ys, xs = np.nonzero(m)
        w = dist[m]
        cents.append((float((xs * w).sum() / w.sum()), float((ys * w).sum() / w.sum())))
        cols.append(fr[:, m].mean(1))
    found = [c for c in cents if c is not None]
    if len(found) < 2 or not cols:
        return dict(colour=None, direction=None, centroids=cents)
    mean = np.mean(cols, axis=0)
    colour = min(COLOURS, key=lambda k: float(((np.array(COLOURS[k]) - mean) ** 2).sum()))
    dx, dy = found[-1][0] - found[0][0], found[-1][1] - found[0][1]
    if abs(dx) >= abs(dy):
        direction = 'right' if dx > 0 else 'left'
    else:
        direction = 'down' if dy > 0 else 'up'
    return dict(colour=colour, direction=direction, centroids=cents, displacement=(dx, dy))


def check_directions_table():
    assert set(DIRECTIONS) == {'left', 'right', 'up', 'down'}
