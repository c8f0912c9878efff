// Times DuckDB (one thread) reading a Parquet file into a table, as the
// reference for bench/parquet_bench.cc:
//   node tools/duckdb/bench_read.js FILE [REPEATS]
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const file = process.argv[2];
  const repeats = Number(process.argv[3] || 5);
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await inst.connect();
  const src = `read_parquet('${file.replace(/'/g, "''")}')`;
  let best = Infinity;
  let bestCpu = Infinity;
  let rows = 0;
  for (let i = 0; i < repeats; ++i) {
    await c.run('DROP TABLE IF EXISTS t');
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await c.run(`CREATE TABLE t AS SELECT * FROM ${src}`);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cu = process.cpuUsage(c0);
    best = Math.min(best, ms);
    bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1000);
    const r = await c.runAndReadAll('SELECT count(*) FROM t');
    rows = Number(r.getRows()[0][0]);
  }
  console.log(JSON.stringify({ reader: 'duckdb', rows, best_wall_ms: best, best_cpu_ms: bestCpu,
    rows_per_s_wall: rows / (best / 1000), rows_per_s_cpu: rows / (bestCpu / 1000) }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
