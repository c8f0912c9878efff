// machine-health: 1m rollup of signal_features for InfluxDB 2.x (a task; see ../README.md). Reads
// the raw bucket "iiot_rms", writes min/mean/max/count per machine into measurement
// "signal_features_1m" of bucket "iiot_rms_1m", fields <fn>_<field> (min_rms_ax, mean_rms_ax, ...)
// for every feature field, stamped with the start of each minute. Recomputes the last 10m on every
// run, so late windows are counted.
option task = {name: "mh_signal_features_1m", every: 1m, offset: 15s}

raw =
    from(bucket: "iiot_rms")
        |> range(start: -10m)
        |> filter(fn: (r) => r._measurement == "signal_features")

rollup = (tables=<-, fn, prefix) =>
    tables
        |> aggregateWindow(every: 1m, fn: fn, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _measurement: "signal_features_1m", _field: prefix + "_" + r._field}))
        |> to(bucket: "iiot_rms_1m")

raw |> rollup(fn: min, prefix: "min")
raw |> rollup(fn: mean, prefix: "mean")
raw |> rollup(fn: max, prefix: "max")
raw |> rollup(fn: count, prefix: "count")

