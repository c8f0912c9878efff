// The machine registry (registry::MachineConfig, docs/machines.md) applied
// to a machine's pipeline core: the one place where a registry entry
// becomes MachineSpec fields.
#ifndef MH_PIPELINE_REGISTRY_SPEC_H_
#define MH_PIPELINE_REGISTRY_SPEC_H_

#include "pipeline/machine_pipeline.h"
#include "registry/machine_config.h"

namespace mh::pipeline {

// Fills `spec` from the machine's registry entry `m`: the fixed shaft speed
// or the event field that carries it (rpm_field: MachineSpec::rpm_field)
// and the bearing (feature stage), the learning length in windows of the
// pipeline's hop at spec->shape.fs_hz (at least 16), the threshold and
// alarm rules, the ISO 20816 group and foundation (alarm explanations) and
// the unit (`m/s^2`: sample_scale 1 / 9.80665, so every feature is in g).
// spec->machine_id, shape.fs_hz and shape.channels are the events' and are
// kept; `model` (an assigned model file) is the caller's to load. Not used
// yet: `unit = "mm/s"` (refused when the machines file is loaded).
void ApplyRegistryEntry(const registry::MachineConfig& m, const PipelineOptions& options,
                        MachineSpec* spec);

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_REGISTRY_SPEC_H_
