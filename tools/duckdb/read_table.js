// Prints a CSV, TSV, JSON Lines or Parquet file as JSON lines using DuckDB
// (@duckdb/node-api): the independent reader of what `machine-health score
// --out` and the other row writers produce.
//   node tools/duckdb/read_table.js FILE
// The reader follows the extension: .parquet read_parquet, .jsonl/.ndjson
// read_json (newline-delimited), .tsv/.csv read_csv (header, auto-detected
// types). Output: first line {"columns": [[name, duckdb_type], ...]}, then
// one JSON array per row, file order; DOUBLE as JSON numbers (or
// "NaN"/"Infinity"/"-Infinity", and "-0.0" for negative zero), integers as decimal strings, timestamps
// as epoch nanoseconds (decimal strings), strings, booleans, null.
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

function quote(name) { return '"' + name.replace(/"/g, '""') + '"'; }

function source(file) {
  const f = `'${file.replace(/'/g, "''")}'`;
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet')) return `read_parquet(${f})`;
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) {
    return `read_json(${f}, format = 'newline_delimited')`;
  }
  if (lower.endsWith('.tsv')) return `read_csv(${f}, header = true, delim = '\t')`;
  return `read_csv(${f}, header = true)`;
}

async function main() {
  const file = process.argv[2];
  if (!file) { console.error('usage: read_table.js FILE'); process.exit(2); }
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  const src = source(file);
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
