// Prints a Parquet file as JSON lines using DuckDB (@duckdb/node-api), the
// independent reader for machine-health's writer tests.
//   node tools/duckdb/read_parquet.js FILE
// First line: {"columns": [[name, duckdb_type], ...]}; then one JSON array per
// row, file order. DOUBLE/FLOAT: JSON numbers, or "NaN"/"Infinity"/"-Infinity",
// and "-0.0" for negative zero; integers as decimal strings (exact);
// timestamps as epoch nanoseconds (decimal strings); booleans, strings, null.
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

function quote(name) { return '"' + name.replace(/"/g, '""') + '"'; }

async function main() {
  const file = process.argv[2];
  if (!file) { console.error('usage: read_parquet.js FILE'); process.exit(2); }
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  const src = `read_parquet('${file.replace(/'/g, "''")}')`;
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
  const cols = desc.getRows().map((r) => [String(r[0]), String(r[1])]);
  const exprs = cols.map(([name, type]) => {
    if (type.startsWith('TIMESTAMP')) return `CAST(epoch_ns(${quote(name)}) AS VARCHAR)`;
    if (/INT/.test(type)) return `CAST(${quote(name)} AS VARCHAR)`;
    return quote(name);
  });
  const result = await conn.runAndReadAll(`SELECT ${exprs.join(', ')} FROM ${src}`);
  const out = [JSON.stringify({ columns: cols })];
  for (const row of result.getRows()) {
    out.push(JSON.stringify(row.map((v) => {
      if (v === null || v === undefined) return null;
      if (typeof v === 'number') {
        if (Number.isNaN(v)) return 'NaN';
        if (v === Infinity) return 'Infinity';
        if (v === -Infinity) return '-Infinity';
        if (v === 0 && 1 / v < 0) return '-0.0';
        return v;
      }
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'boolean' || typeof v === 'string') return v;
      return String(v);
    })));
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
