// machine-health: 1m rollup of anomaly_score for InfluxDB 2.x (a task; see ../README.md). Reads
// the raw bucket "iiot_rms", writes min/mean/max/count per machine into measurement
// "anomaly_score_1m" of bucket "iiot_rms_1m", fields <fn>_<field> (min_score, mean_score, ...) and
// "anomalies", stamped with the start of each minute. Recomputes the last 10m on every run, so
// late windows are counted.
option task = {name: "mh_anomaly_score_1m", every: 1m, offset: 15s}

raw =
    from(bucket: "iiot_rms")
        |> range(start: -10m)
        |> filter(fn: (r) => r._measurement == "anomaly_score")
        |> filter(fn: (r) => r._field == "score" or r._field == "score_samples")

rollup = (tables=<-, fn, prefix) =>
    tables
        |> aggregateWindow(every: 1m, fn: fn, timeSrc: "_start", createEmpty: false)
        |> map(fn: (r) => ({r with _measurement: "anomaly_score_1m", _field: prefix + "_" + r._field}))
        |> to(bucket: "iiot_rms_1m")

raw |> rollup(fn: min, prefix: "min")
raw |> rollup(fn: mean, prefix: "mean")
raw |> rollup(fn: max, prefix: "max")
raw |> rollup(fn: count, prefix: "count")

// Windows flagged anomalous: field "anomalies" (no point when there were none).
from(bucket: "iiot_rms")
    |> range(start: -10m)
    |> filter(fn: (r) => r._measurement == "anomaly_score")
    |> filter(fn: (r) => r._field == "anomaly" and r._value == true)
    |> aggregateWindow(every: 1m, fn: count, timeSrc: "_start", createEmpty: false)
    |> map(fn: (r) => ({r with _measurement: "anomaly_score_1m", _field: "anomalies"}))
    |> to(bucket: "iiot_rms_1m")
