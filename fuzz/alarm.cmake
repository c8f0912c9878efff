# Saved alarm state text (alarm/alarm_state.h), read back from the database.
mh_add_fuzzer(alarm_state DEPS mh_alarm)
