"""Flow-matching sampling for the demo model: the release's UniPC (bh2, order 2) and CFG loop.

Written from shared/reference/wan21-architecture.md §5 and checked against the
sampler_unipc fixture by check_against_fixtures.py (scheduler alone).
"""
import math
import numpy as np
import torch


def unipc_sigmas(steps, shift):
    """Release schedule: linspace(0.999, 0, N+1)[:-1], shifted in float64, + final 0, float32."""
    sigma_max = float(np.float32(1.0 - np.linspace(1, 1 / 1000, 1000, dtype=np.float32)[::-1])[0])
    s = np.linspace(sigma_max, 0.0, steps + 1)[:-1]
    s = shift * s / (1 + (shift - 1) * s)
    timesteps = (s * 1000).astype(np.int64)
    return np.append(s, 0.0).astype(np.float32), timesteps


def _lam(sigma):
    if sigma == 0.0:
        return math.inf
    return math.log(1 - sigma) - math.log(sigma)


def _coeffs(h, order, rks):
    hh = -h
    h_phi_1 = math.expm1(hh)
    h_phi_k = h_phi_1 / hh - 1 if math.isfinite(hh) else -1.0
    b_h = math.expm1(hh)
    fact = 1
    R, b = [], []
    for k in range(1, order + 1):
        R.append([r ** (k - 1) for r in rks])
        b.append(h_phi_k * fact / b_h)
        fact *= k + 1
        h_phi_k = (h_phi_k / hh - 1 / fact) if math.isfinite(hh) else h_phi_k
    return h_phi_1, b_h, np.array(R, np.float64), np.array(b, np.float64)


class UniPC:
    """FlowUniPCMultistepScheduler step logic: predict_x0, bh2, solver_order 2, lower_order_final."""

    def __init__(self, steps, shift):
        self.sigmas, self.timesteps = unipc_sigmas(steps, shift)
        self.steps = steps
        self.history = []  # x0 predictions, newest last
        self.last_sample = None
        self.lower_order_nums = 0
        self.prev_order = None
        self.i = 0

    def _sig(self, k):
        return float(self.sigmas[k])

    def step(self, v, x):
        i = self.i
        s_i = self._sig(i)
        m = x - s_i * v
        if i > 0:
            x = self._corrector(m, x)
        self.history = (self.history + [m])[-2:]
        order = min(2, self.steps - i, self.lower_order_nums + 1)
        self.last_sample = x
        x_next = self._predictor(x, order)
        self.prev_order = order
        self.lower_order_nums = min(self.lower_order_nums + 1, 2)
        self.i += 1
        return x_next, m

    def _corrector(self, m, x):
        i, p = self.i, self.prev_order
        m0 = self.history[-1]
        s_t, s_0 = self._sig(i), self._sig(i - 1)
        h = _lam(s_t) - _lam(s_0)
        rks, d1s = [], []
        if p == 2:
            r = (_lam(self._sig(i - 2)) - _lam(s_0)) / h
            rks.append(r)
            d1s.append((self.history[-2] - m0) / r)
        rks.append(1.0)
        h_phi_1, b_h, R, b = _coeffs(h, p, rks)
        rhos = np.array([0.5]) if p == 1 else np.linalg.solve(R, b)
        a_t = 1 - s_t
        xt = (s_t / s_0) * self.last_sample - a_t * h_phi_1 * m0
        corr = sum(float(rhos[k]) * d1s[k] for k in range(len(d1s))) if d1s else 0.0
        return xt - a_t * b_h * (corr + float(rhos[-1]) * (m - m0))

    def _predictor(self, x, order):
        i = self.i
        m0 = self.history[-1]
        s_t, s_0 = self._sig(i + 1), self._sig(i)
        a_t = 1 - s_t
        if s_t == 0.0:
            return m0.clone()  # sigma 0: the update reduces to the x0 prediction
        h = _lam(s_t) - _lam(s_0)
        xt = (s_t / s_0) * x - a_t * math.expm1(-h) * m0
        if order == 2:
            r = (_lam(self._sig(i - 1)) - _lam(s_0)) / h
            d1 = (self.history[-2] - m0) / r
            xt = xt - a_t * math.expm1(-h) * 0.5 * d1
        return xt


def euler_sigmas(steps, shift):
    s = np.linspace(1.0, 0.0, steps + 1)[:-1]
    s = shift * s / (1 + (shift - 1) * s)
    return np.append(s, 0.0).astype(np.float32)


@torch.no_grad()
def generate(dit, context, context_neg, noise, steps=20, shift=5.0, guide=5.0, record=None, interval=None):
    """CFG loop with UniPC; context/context_neg are padded [1,text_len,dim]; noise [1,16,F,H,W].
    interval (lo, hi): guidance only at steps whose sigma lies in [lo, hi], the conditional velocity elsewhere."""
    sched = UniPC(steps, shift)
    x = noise
    for i, t in enumerate(sched.timesteps):
        tt = torch.tensor([float(t)], dtype=torch.float64)
        cond = dit(x, tt, context)
        sigma = float(t) / 1000
        if interval is not None and not (interval[0] <= sigma <= interval[1]):
            v = cond
            uncond = cond
        else:
            uncond = dit(x, tt, context_neg)
            v = uncond + guide * (cond - uncond)
        x, _ = sched.step(v, x)
        if record is not None:
            record.append(dict(cond=cond, uncond=uncond, latent=x))
    return x, sched


def _low_pass(shape, cut):
    """Gaussian low-pass over the (frames, height, width) frequencies, cut-off `cut` of the sampling rate."""
    f, h, w = shape[-3:]
    d = (torch.fft.fftfreq(f)[:, None, None] ** 2 + torch.fft.fftfreq(h)[None, :, None] ** 2
         + torch.fft.fftfreq(w)[None, None, :] ** 2) / cut ** 2
    return torch.exp(-d / 2)


@torch.no_grad()
def generate_free_init(dit, context, context_neg, noise, rounds, signal=0.07, cut=0.25, gen=None, **kw):
    """FreeInit-style sampling (an experiment; Wu et al. 2023, diffusers' FreeInitMixin): after each
    round, the next round starts from the low spatio-temporal frequencies of the sample re-noised
    as signal·x0 + sqrt(1 - signal²)·noise (0.07 is FreeInit's weight at t = T) and the high
    frequencies of fresh noise drawn from `gen` (seed it apart from `noise`'s generator, or the first
    fresh draw repeats the initial noise)."""
    lpf = _low_pass(noise.shape, cut)
    spectrum = lambda x: torch.fft.fftn(x, dim=(-3, -2, -1))
    x = noise
    for r in range(rounds):
        lat, sched = generate(dit, context, context_neg, x, **kw)
        if r + 1 < rounds:
            renoised = signal * lat + math.sqrt(1 - signal ** 2) * noise
            fresh = torch.randn(noise.shape, generator=gen)
            x = torch.fft.ifftn(spectrum(renoised) * lpf + spectrum(fresh) * (1 - lpf), dim=(-3, -2, -1)).real
    return lat, sched
