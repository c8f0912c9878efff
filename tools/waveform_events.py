#!/usr/bin/python3
"""Writes raw tri-axial waveform events as JSON lines, like stream-bench's scenario 2.

Each line is one event {"sensor_id":"mK","timestamp":T,"fs":25600,"ax":[...],"ay":[...],
"az":[...]} of 3 x 2560 samples x_k = sin(2 pi 50 k / fs) + N(0, 0.3), numbers printed as the
shortest round-trip text (Python's repr; the same digits as std::to_chars, which
replay::AppendWaveformEventJson uses). For measuring `machine-health score --from jsonl:FILE`
without Kafka:

    tools/waveform_events.py --events 2000 --out /tmp/wave.jsonl
    tools/waveform_events.py --train /tmp/wtrain.csv   # the bench's training table
"""
import argparse
import math
import random
import sys


def write_events(out, events, samples, fs, seed):
    rng = random.Random(seed)
    base = [math.sin(2 * math.pi * 50 * k / fs) for k in range(samples)]
    for i in range(events):
        parts = ['{"sensor_id":"m%d","timestamp":%r,"fs":%r' % (i % 20, 1761519890.0 + i * 0.1,
                                                                 float(fs) if fs != int(fs) else int(fs))]
        for ch in ("ax", "ay", "az"):
            vals = ",".join(repr(b + rng.gauss(0, 0.3)) for b in base)
            parts.append(',"%s":[%s]' % (ch, vals))
        parts.append("}\n")
        out.write("".join(parts))


def write_train(out, rows, seed):
    rng = random.Random(seed)
    out.write("rms_ax,rms_ay,rms_az,kurtosis_ax,kurtosis_ay,kurtosis_az\n")
    for _ in range(rows):
        out.write(",".join(repr((0.7 if j < 3 else 3.0) + 0.05 * rng.gauss(0, 1))
                           for j in range(6)) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--samples", type=int, default=2560, help="samples per channel")
    p.add_argument("--fs", type=float, default=25600)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--out", default="-", help="events file (- = stdout)")
    p.add_argument("--train", help="also write a 5000-row training table here")
    a = p.parse_args()
    if a.train:
        with open(a.train, "w") as f:
            write_train(f, 5000, a.seed)
    if a.out == "-":
        write_events(sys.stdout, a.events, a.samples, a.fs, a.seed)
    else:
        with open(a.out, "w") as f:
            write_events(f, a.events, a.samples, a.fs, a.seed)


if __name__ == "__main__":
    main()
