#!/usr/bin/python3
"""Reference values for the basic window features, computed with numpy/scipy.

Used by tests/features at test time as an independent oracle (docs/features.md
defines every feature). Input (argv[1]), plain text:
  line 1: fs n lo1 hi1 lo2 hi2 ...      sample rate, window length, band edges
  then:   one window per line, n whitespace-separated samples
Output (stdout): one line per window, the features in the extractor's
per-channel order (mean rms rms_ac peak peak_to_peak crest_factor skewness
kurtosis peak_freq peak_amp, then band_energy band_rms per band), as repr().
With argv[2] == "full" (argv[3] = "g" or "m/s2"), the full set's extra
features follow.
Further optional words after argv[1], in any order:
  float32       each window is rounded to float32 (np.float32) and upcast to
                float64 before anything else, as a float32 logger's data.
  magnitude=K   windows come in groups of K lines (the K channels of one
                window); each group prints K + 1 lines: the K channels, then
                the vector magnitude np.sqrt(x0**2 + x1**2 + ...).
"""
import sys
import warnings

import numpy as np
import scipy.stats


G = 9.80665  # m/s^2 per g


def full_features(x, fs, spec, f, unit_to_si):
    """The extra features of the full set (docs/features.md)."""
    n = x.size
    p = np.abs(spec) ** 2
    pk, fk = p[1:], f[1:]
    total = np.sum(pk)
    if total > 0:
        centroid = np.sum(fk * pk) / total
        spread = np.sqrt(np.sum((fk - centroid) ** 2 * pk) / total)
        flatness = 0.0 if np.any(pk == 0) else scipy.stats.gmean(pk) / np.mean(pk)
    else:
        centroid = spread = flatness = 0.0
    mean_abs = np.mean(np.abs(x))
    rms = np.sqrt(np.mean(x ** 2))
    peak = np.max(np.abs(x))
    shape = rms / mean_abs if mean_abs > 0 else 0.0
    impulse = peak / mean_abs if mean_abs > 0 else 0.0
    msq = np.mean(np.sqrt(np.abs(x)))
    clearance = peak / msq ** 2 if msq > 0 else 0.0
    d = x - np.mean(x)
    zcr = np.count_nonzero(d[:-1] * d[1:] < 0) / (n - 1)
    # Velocity: divide by j*2*pi*f in 10..min(1000, fs/2) Hz, back to time
    # domain, RMS, m/s -> mm/s.
    mask = (f >= 10) & (f <= min(1000.0, fs / 2)) & (f > 0)
    vspec = np.zeros_like(spec)
    vspec[mask] = spec[mask] / (1j * 2 * np.pi * f[mask])
    v = np.fft.irfft(vspec, n=n) * unit_to_si
    velocity = np.sqrt(np.mean(v ** 2)) * 1000.0
    return [centroid, spread, flatness, shape, impulse, clearance, zcr, velocity]


def features(x, fs, bands, full=False, unit_to_si=G):
    n = x.size
    mean = np.mean(x)
    rms = np.sqrt(np.mean(x ** 2))
    rms_ac = np.std(x)
    peak = np.max(np.abs(x))
    p2p = np.ptp(x)
    crest = peak / rms if rms > 0 else 0.0
    with np.errstate(all="ignore"):
        skew = scipy.stats.skew(x)
        kurt = scipy.stats.kurtosis(x, fisher=False, bias=True)
    # Documented convention for a constant window (scipy gives NaN).
    constant = bool(np.isnan(skew))
    if constant:
        skew = 0.0
        kurt = 0.0
    spec = np.fft.rfft(x)
    mag = np.abs(spec)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    k = int(np.argmax(mag[1:])) + 1
    nyquist = n % 2 == 0 and k == n // 2
    peak_freq = f[k]
    peak_amp = (1.0 if nyquist else 2.0) * mag[k] / n
    if constant:  # documented: no AC content -> no spectral peak
        peak_freq = 0.0
        peak_amp = 0.0
    out = [mean, rms, rms_ac, peak, p2p, crest, skew, kurt, peak_freq, peak_amp]
    for lo, hi in bands:
        mask = (f >= lo) & (f <= hi)
        energy = np.sum(mag[mask] ** 2)
        # Band RMS from the band-limited time signal (independent of the
        # Parseval weights the C++ code uses).
        band_signal = np.fft.irfft(np.where(mask, spec, 0), n=n)
        band_rms = np.sqrt(np.mean(band_signal ** 2))
        out += [energy, band_rms]
    if full:
        out += full_features(x, fs, spec, f, unit_to_si)
    return out


def main():
    words = sys.argv[2:]
    full = "full" in words
    unit_to_si = 1.0 if "m/s2" in words else G
    float32 = "float32" in words
    group = 1
    for w in words:
        if w.startswith("magnitude="):
            group = int(w.split("=", 1)[1])
    pending = []
    # scipy warns about cancellation on (nearly) constant windows.
    warnings.simplefilter("ignore", RuntimeWarning)
    with open(sys.argv[1]) as fh:
        head = fh.readline().split()
        fs = float(head[0])
        n = int(head[1])
        edges = [float(v) for v in head[2:]]
        bands = list(zip(edges[0::2], edges[1::2]))
        for line in fh:
            if not line.strip():
                continue
            x = np.array([float(v) for v in line.split()], dtype=np.float64)
            assert x.size == n, (x.size, n)
            if float32:
                x = x.astype(np.float32).astype(np.float64)
            pending.append(x)
            if len(pending) < group:
                continue
            channels = pending
            pending = []
            if group > 1:
                square_sum = channels[0] ** 2
                for c in channels[1:]:
                    square_sum = square_sum + c ** 2
                channels = channels + [np.sqrt(square_sum)]
            for c in channels:
                print(" ".join(repr(float(v)) for v in features(c, fs, bands, full, unit_to_si)))
        assert not pending, "incomplete channel group"


if __name__ == "__main__":
    main()
