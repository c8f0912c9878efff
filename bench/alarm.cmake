# Alarm stage cost per window (state machine, saved state, explanation).
mh_add_bench(alarm_bench SOURCES alarm_bench.cc DEPS mh_alarm)
