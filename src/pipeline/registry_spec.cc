#include "pipeline/registry_spec.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace mh::pipeline {

void ApplyRegistryEntry(const registry::MachineConfig& m, const PipelineOptions& options,
                        MachineSpec* spec) {
  const features::StreamShape shape = registry::StreamShapeOf(m);
  if (shape.shaft_rpm > 0) spec->shape.shaft_rpm = shape.shaft_rpm;
  if (shape.bearing) spec->shape.bearing = shape.bearing;
  if (m.shaft.source == registry::ShaftSpeedSource::kEventField) spec->rpm_field = m.shaft.field;
  const std::size_t hop_samples =
      options.window.hop_samples == 0 ? options.window.window_samples : options.window.hop_samples;
  const std::chrono::nanoseconds hop(
      std::llround(static_cast<double>(hop_samples) * 1e9 / spec->shape.fs_hz));
  score::LearnOptions learn = options.learn;
  learn.learning_windows = std::max<std::size_t>(registry::LearningWindows(m.learning, hop), 16);
  learn.threshold = m.threshold;
  spec->learn = learn;
  spec->alarm = m.alarm;  // max_gap_ns from the hop: MachinePipeline::Create
  spec->iso_group = m.iso_group;
  spec->foundation = m.foundation;
  spec->sample_scale =
      m.unit == registry::SampleUnit::kMetersPerS2 ? 1.0 / features::kStandardGravity : 1.0;
}

}  // namespace mh::pipeline
