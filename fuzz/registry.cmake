# Machines file (registry/): TOML through toml++, then validation.
mh_add_fuzzer(registry DEPS mh_registry)
