#include "features/snapshot_spectrum.h"

#include <cmath>
#include <complex>
#include <string>

#include "features/envelope.h"
#include "features/real_fft.h"

namespace mh::features {

Result<SnapshotSpectra> ComputeSnapshotSpectra(std::span<const std::vector<double>> channels,
                                               double fs_hz, std::optional<Band> envelope_band) {
  if (channels.empty()) return Status::InvalidArgument("spectrum: no channel");
  const std::size_t n = channels[0].size();
  if (n < 4) return Status::InvalidArgument("spectrum: fewer than 4 samples");
  if (!(fs_hz > 0) || !std::isfinite(fs_hz)) {
    return Status::InvalidArgument("spectrum: sampling rate must be finite and > 0");
  }
  for (std::size_t c = 0; c < channels.size(); ++c) {
    if (channels[c].size() != n) {
      return Status::InvalidArgument("spectrum: channel " + std::to_string(c) + " has " +
                                     std::to_string(channels[c].size()) + " samples, channel 0 " +
                                     std::to_string(n));
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (!std::isfinite(channels[c][k])) {
        return Status::InvalidArgument("spectrum: channel " + std::to_string(c) + " sample " +
                                       std::to_string(k) + " is not finite");
      }
    }
  }
  SnapshotSpectra out;
  out.envelope_band = envelope_band.value_or(DefaultEnvelopeBand(fs_hz));
  MH_ASSIGN_OR_RETURN(auto fft, RealFft::Create(n));
  MH_ASSIGN_OR_RETURN(auto envelope, EnvelopeAnalyzer::Create(n, fs_hz, out.envelope_band));
  const std::size_t bins = fft->bins();
  out.freq_hz.resize(bins);
  for (std::size_t k = 0; k < bins; ++k) out.freq_hz[k] = BinFrequencyHz(k, n, fs_hz);
  std::vector<std::complex<double>> spectrum(bins);
  std::vector<double> power(bins);
  for (const std::vector<double>& x : channels) {
    fft->Forward(x, spectrum);
    PowerSpectrum(spectrum, power);
    std::vector<double>& a = out.amplitude.emplace_back(bins);
    for (std::size_t k = 0; k < bins; ++k) a[k] = SingleSidedAmplitude(power[k], k, n);
    envelope->Compute(spectrum);
    std::span<const double> ep = envelope->power();
    std::vector<double>& e = out.envelope_amplitude.emplace_back(bins);
    for (std::size_t k = 0; k < bins; ++k) e[k] = SingleSidedAmplitude(ep[k], k, n);
  }
  return out;
}

}  // namespace mh::features
