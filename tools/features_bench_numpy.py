#!/usr/bin/python3
"""Throughput of the fastest vectorised numpy formulation of our feature sets.

The numpy side of the comparison in tools/features_bench.sh: batches of
windows as one 2-D float64 array (windows x samples), every feature computed
along axis 1 in one call per operation, on one core. Prints one line per set:

  numpy_basic <samples_per_s>
  numpy_full  <samples_per_s>

The features mirror docs/features.md (basic: time-domain statistics, dominant
frequency and amplitude, band energy and band RMS for three bands; full: plus
spectral shape, shape factors, zero-crossing rate, velocity RMS, orders 1x-3x
and the envelope spectrum at the bearing frequencies and their 2x). Run with
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 (the shell script sets them).

Usage: features_bench_numpy.py [--n 2560] [--batch 256] [--seconds 2]
"""
import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

FS = 25600.0
BANDS = [(0, 200), (200, 1000), (1000, 5000)]
G = 9.80665
# 6205 at 1797 rpm: shaft, FTF, BSF, BPFO, BPFI in Hz.
SHAFT = 1797 / 60.0
CHAR = [11.93, 70.6, 107.4, 162.2]


def basic(x, f, masks):
    n = x.shape[1]
    mean = x.mean(axis=1)
    sq = x * x
    rms = np.sqrt(sq.mean(axis=1))
    d = x - mean[:, None]
    d2 = d * d
    m2 = d2.mean(axis=1)
    m3 = (d2 * d).mean(axis=1)
    m4 = (d2 * d2).mean(axis=1)
    mx = x.max(axis=1)
    mn = x.min(axis=1)
    peak = np.maximum(mx, -mn)
    ptp = mx - mn
    crest = peak / rms
    skew = m3 / m2 ** 1.5
    kurt = m4 / (m2 * m2)
    spec = np.fft.rfft(x, axis=1)
    p = spec.real ** 2 + spec.imag ** 2
    k = np.argmax(p[:, 1:], axis=1) + 1
    peak_freq = f[k]
    peak_amp = 2.0 * np.sqrt(p[np.arange(p.shape[0]), k]) / n
    out = [mean, rms, np.sqrt(m2), peak, ptp, crest, skew, kurt, peak_freq, peak_amp]
    for m, w in masks:
        out.append(p[:, m].sum(axis=1))
        out.append(np.sqrt(p[:, m] @ w) / n)
    return out, spec, p, mean, rms, peak


def full(x, f, masks, vel_w, order_bins, env_mask, env_h, char_bins):
    n = x.shape[1]
    out, spec, p, mean, rms, peak = basic(x, f, masks)
    pk = p[:, 1:]
    fk = f[1:]
    total = pk.sum(axis=1)
    centroid = pk @ fk / total
    spread = np.sqrt((pk @ (fk * fk)) / total - centroid * centroid)
    flatness = np.exp(np.log(pk).mean(axis=1)) / pk.mean(axis=1)
    ax = np.abs(x)
    mean_abs = ax.mean(axis=1)
    shape = rms / mean_abs
    impulse = peak / mean_abs
    clearance = peak / np.sqrt(ax).mean(axis=1) ** 2
    d = x - mean[:, None]
    zcr = np.count_nonzero(d[:, :-1] * d[:, 1:] < 0, axis=1) / (n - 1)
    velocity = np.sqrt(p @ vel_w) / n * G * 1000.0
    orders = [2.0 * np.sqrt(p[:, b - 1:b + 2].max(axis=1)) / n for b in order_bins]
    # Envelope: band-pass in the frequency domain, analytic signal, |.|,
    # spectrum of the envelope without its mean.
    z = np.zeros((x.shape[0], n), dtype=np.complex128)
    z[:, env_mask] = spec[:, env_mask] * env_h
    env = np.abs(np.fft.ifft(z, axis=1))
    env -= env.mean(axis=1)[:, None]
    eamp = np.abs(np.fft.rfft(env, axis=1)) * (2.0 / n)
    envs = [eamp[:, b - 1:b + 2].max(axis=1) for b in char_bins]
    return out + [centroid, spread, flatness, shape, impulse, clearance, zcr, velocity] + orders + envs


def timeit(fn, seconds):
    """Best CPU time of one call (thread CPU time, like Google Benchmark's
    items_per_second, so that a loaded machine penalises both sides alike)."""
    fn()  # warm-up
    best = float("inf")
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2560)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    n = a.n
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 0.5, size=(a.batch, n))
    f = np.fft.rfftfreq(n, 1.0 / FS)
    masks = []
    for lo, hi in BANDS:
        m = np.nonzero((f >= lo) & (f <= hi))[0]
        w = np.where((m == 0) | (m == n // 2), 1.0, 2.0)
        masks.append((m, w))
    vmask = (f >= 10) & (f <= 1000)
    vel_w = np.zeros(f.size)
    vel_w[vmask] = 2.0 / (2 * np.pi * f[vmask]) ** 2
    df = f[1]
    order_bins = [int(round(h * SHAFT / df)) for h in (1, 2, 3)]
    env_mask = np.nonzero((f >= FS / 16) & (f <= FS / 4))[0]
    env_h = np.where((env_mask == 0) | (env_mask == n // 2), 1.0, 2.0)
    char_bins = [max(1, int(round(h * c / df))) for c in CHAR for h in (1, 2)]

    t_basic = timeit(lambda: basic(x, f, masks), a.seconds)
    t_full = timeit(lambda: full(x, f, masks, vel_w, order_bins, env_mask, env_h, char_bins),
                    a.seconds)
    samples = a.batch * n
    print(f"numpy_basic {samples / t_basic:.6g}")
    print(f"numpy_full {samples / t_full:.6g}")


if __name__ == "__main__":
    main()
