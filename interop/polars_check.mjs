// Reads every colnorm output listed in an expectations file (written by
// cmd/colnorm's TestInteropPolars) with nodejs-polars and checks the shape,
// the column names and types, and every value against the TSV output of the
// same command. Exits 1 with one line per problem; prints
// "polars: N outputs checked" when all is well.
//
//   node polars_check.mjs expect.json
import fs from "node:fs";
import pl from "nodejs-polars";

const expectations = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const problems = [];
const wantType = { float64: "Float64", float32: "Float32", int64: "Int64" };

// readTSV returns the header's samples, the gene ids and the value texts.
function readTSV(path) {
  const lines = fs.readFileSync(path, "utf8").replace(/\n$/, "").split("\n");
  const samples = lines[0].split("\t").slice(1);
  const genes = [];
  const values = [];
  for (const line of lines.slice(1)) {
    const f = line.split("\t");
    genes.push(f[0]);
    values.push(f.slice(1));
  }
  return { samples, genes, values };
}

// same reports whether Polars' value equals the TSV's text read as the
// output's type: float64 texts are the shortest that read back as the same
// double, float32 texts the shortest that read back as the same float.
function same(got, text, type) {
  if (typeof got === "bigint") got = Number(got);
  let want = Number(text);
  if (type === "float32") want = Math.fround(want);
  return got === want;
}

function read(o) {
  switch (o.format) {
    case "parquet":
      return pl.readParquet(o.path);
    case "arrow":
      // nodejs-polars takes a string as a path only when it ends in .ipc
      // (else as the file's contents), so give it the bytes.
      return pl.readIPC(fs.readFileSync(o.path));
    case "arrow-stream":
      // "-" is standard input: colnorm -o -.arrow piped into this process.
      return pl.readIPCStream(fs.readFileSync(o.path === "-" ? 0 : o.path));
  }
  throw new Error(`unknown format ${o.format}`);
}

const tsvs = new Map();
let checked = 0;
for (const o of expectations) {
  const bad = (msg) => problems.push(`${o.name}: ${msg}`);
  let df;
  try {
    df = read(o);
  } catch (e) {
    bad(`Polars cannot read it: ${e.message}`);
    continue;
  }
  if (!tsvs.has(o.tsv)) tsvs.set(o.tsv, readTSV(o.tsv));
  const tsv = tsvs.get(o.tsv);
  const G = tsv.genes.length;
  const S = tsv.samples.length;
  if (G !== o.genes || S !== o.samples) bad(`the TSV has ${G} x ${S}, the expectations ${o.genes} x ${o.samples}`);
  const names = df.columns;
  const types = df.dtypes.map((d) => String(d).replace(/^DataType\((.*)\)$/, "$1"));
  const valueType = wantType[o.type];
  if (types[0] !== "String") bad(`gene id column is ${types[0]}, want String`);
  if (o.layout === "wide") {
    if (df.height !== G || df.width !== S + 1) {
      bad(`shape ${df.height} x ${df.width}, want ${G} x ${S + 1}`);
      continue;
    }
    if (names.slice(1).join("\t") !== tsv.samples.join("\t")) bad(`sample columns ${names.slice(1)}, want ${tsv.samples}`);
    for (let j = 1; j <= S; j++) {
      if (types[j] !== valueType) bad(`column ${names[j]} is ${types[j]}, want ${valueType}`);
    }
    const ids = df.getColumn(names[0]).toArray();
    for (let g = 0; g < G; g++) {
      if (ids[g] !== tsv.genes[g]) {
        bad(`row ${g}: gene ${ids[g]}, want ${tsv.genes[g]}`);
        break;
      }
    }
    for (let j = 0; j < S; j++) {
      const col = df.getColumn(names[j + 1]).toArray();
      for (let g = 0; g < G; g++) {
        if (!same(col[g], tsv.values[g][j], o.type)) {
          bad(`${tsv.samples[j]}, ${tsv.genes[g]}: Polars reads ${col[g]}, the TSV has ${tsv.values[g][j]}`);
          break;
        }
      }
    }
  } else {
    if (df.height !== G * S || names.join(",") !== "gene_id,sample,value") {
      bad(`shape ${df.height} x [${names}], want ${G * S} rows of gene_id, sample, value`);
      continue;
    }
    if (types[1] !== "String" || types[2] !== valueType) bad(`types ${types}, want String, String, ${valueType}`);
    const ids = df.getColumn("gene_id").toArray();
    const samples = df.getColumn("sample").toArray();
    const values = df.getColumn("value").toArray();
    for (let k = 0; k < G * S; k++) {
      const g = k % G;
      const j = Math.floor(k / G);
      if (ids[k] !== tsv.genes[g] || samples[k] !== tsv.samples[j] || !same(values[k], tsv.values[g][j], o.type)) {
        bad(`row ${k}: Polars reads ${ids[k]} ${samples[k]} ${values[k]}, want ${tsv.genes[g]} ${tsv.samples[j]} ${tsv.values[g][j]}`);
        break;
      }
    }
  }
  checked++;
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`polars: ${checked} outputs checked (nodejs-polars ${JSON.parse(fs.readFileSync(new URL("./node_modules/nodejs-polars/package.json", import.meta.url))).version})`);
