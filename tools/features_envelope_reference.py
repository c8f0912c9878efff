#!/usr/bin/python3
"""Reference envelope spectra computed with numpy and scipy.signal.hilbert.

Independent oracle for tests/features/envelope_test.cc (docs/features.md,
"Envelope analysis"). Inputs (argv[1:], processed in order), plain text:
  line 1: fs n lo hi          sample rate, window length, band-pass band (Hz)
  then:   one window per line, n whitespace-separated samples
Output (stdout), per window two lines (repr() values):
  the envelope |hilbert(y)| (n values), y = the band-passed window
  |rfft(e - mean(e))| (n//2 + 1 values), the envelope spectrum magnitude
The band-pass is the ideal FFT filter: y = irfft(rfft(x) * mask, n) with
mask = (f >= lo) & (f <= hi), f = rfftfreq(n, 1/fs).
"""
import sys

import numpy as np
import scipy.signal


def main():
    for path in sys.argv[1:]:
        process(path)


def process(path):
    with open(path) as fh:
        head = fh.readline().split()
        fs, n, lo, hi = float(head[0]), int(head[1]), float(head[2]), float(head[3])
        f = np.fft.rfftfreq(n, 1.0 / fs)
        mask = (f >= lo) & (f <= hi)
        for line in fh:
            if not line.strip():
                continue
            x = np.array([float(v) for v in line.split()], dtype=np.float64)
            assert x.size == n, (x.size, n)
            y = np.fft.irfft(np.fft.rfft(x) * mask, n=n)
            e = np.abs(scipy.signal.hilbert(y))
            spec = np.abs(np.fft.rfft(e - np.mean(e)))
            print(" ".join(repr(float(v)) for v in e))
            print(" ".join(repr(float(v)) for v in spec))


if __name__ == "__main__":
    main()
