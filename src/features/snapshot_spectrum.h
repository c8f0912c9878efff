// The spectra of a stored waveform snapshot, as the dashboard and `report`
// draw them: per channel the single-sided amplitude spectrum of the window
// and the amplitude spectrum of its envelope (envelope.h: band-pass around a
// resonance, Hilbert envelope, spectrum of the envelope), the picture in
// which shaft harmonics and bearing defect frequencies are read.
//
// Thread safety: a pure function (plans are made per call).
#ifndef MH_FEATURES_SNAPSHOT_SPECTRUM_H_
#define MH_FEATURES_SNAPSHOT_SPECTRUM_H_

#include <optional>
#include <span>
#include <vector>

#include "core/result.h"
#include "features/spectrum.h"

namespace mh::features {

struct SnapshotSpectra {
  std::vector<double> freq_hz;  // bins 0..n/2 (numpy.fft.rfftfreq(n, 1/fs))
  // Per channel, per bin: SingleSidedAmplitude of the window's rfft (signal
  // units: a sinusoid of amplitude A in bin k reads A).
  std::vector<std::vector<double>> amplitude;
  // Per channel, per bin: SingleSidedAmplitude of the envelope spectrum.
  std::vector<std::vector<double>> envelope_amplitude;
  Band envelope_band;  // the band-pass band of the envelope
};

// InvalidArgument for no channel, channels of unequal length or fewer than
// 4 samples, fs <= 0, non-finite samples, or a band the envelope analyzer
// refuses. envelope_band: nullopt = DefaultEnvelopeBand(fs).
Result<SnapshotSpectra> ComputeSnapshotSpectra(std::span<const std::vector<double>> channels,
                                               double fs_hz,
                                               std::optional<Band> envelope_band = std::nullopt);

}  // namespace mh::features

#endif  // MH_FEATURES_SNAPSHOT_SPECTRUM_H_
