#include "features/envelope.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <kissfft.hh>

#include "core/check.h"
#include "core/strings.h"
#include "features/real_fft.h"

namespace mh::features {

Band DefaultEnvelopeBand(double sample_rate_hz) {
  return Band{sample_rate_hz / 16, sample_rate_hz / 4};
}

struct EnvelopeAnalyzer::Impl {
  Impl(std::size_t n_in, double fs_in, Band band_in, std::size_t decimation_in)
      : n(n_in),
        fs(fs_in),
        band(band_in),
        decimation(decimation_in),
        m(n_in / decimation_in),
        inverse(m, /*inverse=*/true) {}

  std::size_t n;
  double fs;
  Band band;
  BinRange bins;
  // The analytic spectrum is zero outside the band, so z is computed as D
  // interleaved inverse transforms of length m = n / D (decimation in time
  // with the zero bins skipped); D = 1 is the plain length-n inverse FFT.
  std::size_t decimation;
  std::size_t m;
  kissfft<double> inverse;                     // complex, length m
  std::vector<std::complex<double>> twiddle;   // [r * width + j] = exp(2 pi i j r / n)
  std::unique_ptr<RealFft> forward;            // real, length n
  std::vector<std::complex<double>> weighted;  // W_j = h X_{k0+j} (band width)
  std::vector<std::complex<double>> analytic;  // W_j exp(2 pi i j r / n), zero-padded (m)
  std::vector<std::complex<double>> z;         // inverse transform output (m)
  std::vector<double> envelope;                // e (n)
  std::vector<double> centred;                 // e - mean(e) (n)
  std::vector<std::complex<double>> spectrum;  // E (n/2 + 1)
  std::vector<double> power;                   // |E|^2 (n/2 + 1)
};

EnvelopeAnalyzer::EnvelopeAnalyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnvelopeAnalyzer::~EnvelopeAnalyzer() = default;

Result<std::unique_ptr<EnvelopeAnalyzer>> EnvelopeAnalyzer::Create(std::size_t n,
                                                                   double sample_rate_hz,
                                                                   Band band) {
  if (n < 4) return Status::InvalidArgument("envelope: window must be at least 4 samples");
  if (!(sample_rate_hz > 0) || !std::isfinite(sample_rate_hz)) {
    return Status::InvalidArgument("envelope: sample rate must be a positive finite number of hz");
  }
  const std::string where =
      "envelope band " + FormatDouble(band.lo_hz) + "-" + FormatDouble(band.hi_hz) + " hz: ";
  if (!std::isfinite(band.lo_hz) || !std::isfinite(band.hi_hz)) {
    return Status::InvalidArgument(where + "edges must be finite");
  }
  if (band.lo_hz < 0) return Status::InvalidArgument(where + "lower edge is negative");
  if (!(band.lo_hz < band.hi_hz)) {
    return Status::InvalidArgument(where + "lower edge must be below the upper edge");
  }
  if (band.hi_hz > sample_rate_hz / 2) {
    return Status::InvalidArgument(where + "upper edge above nyquist " +
                                   FormatDouble(sample_rate_hz / 2) + " hz");
  }
  const BinRange bins = BandBins(band.lo_hz, band.hi_hz, n, sample_rate_hz);
  if (bins.first >= bins.last) {
    return Status::InvalidArgument(where + "no frequency bin inside the band");
  }
  // Largest power-of-two D (<= 16) dividing n with the band inside n / D bins.
  const std::size_t width = bins.last - bins.first;
  std::size_t decimation = 1;
  while (decimation < 16 && n % (2 * decimation) == 0 && width <= n / (2 * decimation)) {
    decimation *= 2;
  }
  auto impl = std::make_unique<Impl>(n, sample_rate_hz, band, decimation);
  impl->bins = bins;
  MH_ASSIGN_OR_RETURN(impl->forward, RealFft::Create(n));
  impl->weighted.assign(width, {0.0, 0.0});
  impl->analytic.assign(impl->m, {0.0, 0.0});
  impl->z.assign(impl->m, {0.0, 0.0});
  impl->twiddle.resize(decimation * width);
  for (std::size_t r = 0; r < decimation; ++r) {
    for (std::size_t j = 0; j < width; ++j) {
      // Reduce j * r mod n first so the angle stays accurate.
      const double angle =
          2 * std::numbers::pi * static_cast<double>((j * r) % n) / static_cast<double>(n);
      impl->twiddle[r * width + j] = {std::cos(angle), std::sin(angle)};
    }
  }
  impl->envelope.assign(n, 0.0);
  impl->centred.assign(n, 0.0);
  impl->spectrum.assign(n / 2 + 1, {0.0, 0.0});
  impl->power.assign(n / 2 + 1, 0.0);
  std::unique_ptr<EnvelopeAnalyzer> a(new EnvelopeAnalyzer(std::move(impl)));
  // Warm-up: KissFFT may grow scratch space on the first transform.
  std::vector<std::complex<double>> zeros(n / 2 + 1, {0.0, 0.0});
  a->Compute(zeros);
  return a;
}

void EnvelopeAnalyzer::Compute(std::span<const std::complex<double>> spectrum) {
  Impl& m = *impl_;
  const std::size_t n = m.n;
  MH_CHECK(spectrum.size() == n / 2 + 1);
  // z_t = exp(2 pi i k0 t / n) * sum_j W_j exp(2 pi i j t / n) / n with
  // W_j = h_{k0+j} X_{k0+j} (k0 = first band bin); |z| does not depend on
  // the exp(2 pi i k0 t / n) factor. For t = D q + r the sum is the length-m
  // inverse DFT over q of W_j exp(2 pi i j r / n).
  const std::size_t width = m.bins.last - m.bins.first;
  const double inv_n = 1.0 / static_cast<double>(n);
  // W_j = h_k X_k as interleaved (re, im) doubles; std::complex arrays have
  // this layout by definition ([complex.numbers]).
  double* w = reinterpret_cast<double*>(m.weighted.data());
  const double* x = reinterpret_cast<const double*>(spectrum.data() + m.bins.first);
  for (std::size_t j = 0; j < 2 * width; ++j) w[j] = 2.0 * x[j];
  for (const std::size_t k : {std::size_t{0}, n / 2}) {
    if (k >= m.bins.first && k < m.bins.last && (k == 0 || n % 2 == 0)) {
      m.weighted[k - m.bins.first] = spectrum[k];  // h = 1 at DC and Nyquist
    }
  }
  double sum = 0;
  double* a = reinterpret_cast<double*>(m.analytic.data());
  for (std::size_t r = 0; r < m.decimation; ++r) {
    const double* tw = reinterpret_cast<const double*>(m.twiddle.data() + r * width);
    for (std::size_t j = 0; j < width; ++j) {
      const double xr = w[2 * j];
      const double xi = w[2 * j + 1];
      const double tr = tw[2 * j];
      const double ti = tw[2 * j + 1];
      a[2 * j] = xr * tr - xi * ti;
      a[2 * j + 1] = xr * ti + xi * tr;
    }
    m.inverse.transform(m.analytic.data(), m.z.data());
    for (std::size_t q = 0; q < m.m; ++q) {
      const double re = m.z[q].real();
      const double im = m.z[q].imag();
      const double e = std::sqrt(re * re + im * im) * inv_n;
      m.envelope[q * m.decimation + r] = e;
      sum += e;
    }
  }
  const double mean = sum * inv_n;
  for (std::size_t i = 0; i < n; ++i) m.centred[i] = m.envelope[i] - mean;
  m.forward->Forward(m.centred, m.spectrum);
  PowerSpectrum(m.spectrum, m.power);
}

std::span<const double> EnvelopeAnalyzer::envelope() const { return impl_->envelope; }
std::span<const double> EnvelopeAnalyzer::power() const { return impl_->power; }

double EnvelopeAnalyzer::AmplitudeAt(double hz) const {
  return AmplitudeNear(impl_->power, hz, impl_->n, impl_->fs);
}

std::size_t EnvelopeAnalyzer::size() const { return impl_->n; }
double EnvelopeAnalyzer::sample_rate_hz() const { return impl_->fs; }
Band EnvelopeAnalyzer::band() const { return impl_->band; }
BinRange EnvelopeAnalyzer::band_bins() const { return impl_->bins; }

}  // namespace mh::features
