# CSV reader: dialect detection, quoting, type inference, timestamps.
mh_add_fuzzer(csv DEPS mh_csv)
