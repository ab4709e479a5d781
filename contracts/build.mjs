// npm run build: compiles agent/src/main/solidity with solc-js and writes the artifacts the agent
// loads (agent/src/main/resources/io/gpuagent/escrow/*.json). `--check` writes nothing and exits 1
// when the committed artifacts differ from what the sources compile to.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { ARTIFACT_DIR, REPO_DIR, buildArtifacts } from "./lib/compile.mjs";

const check = process.argv.includes("--check");
const { files, warnings } = buildArtifacts();
for (const w of warnings) console.warn(w);

let stale = 0;
mkdirSync(ARTIFACT_DIR, { recursive: true });
for (const [name, text] of Object.entries(files)) {
  const path = join(ARTIFACT_DIR, name);
  const same = existsSync(path) && readFileSync(path, "utf8") === text;
  const shown = relative(REPO_DIR, path);
  if (check) {
    if (!same) stale++;
    console.log(`${same ? "up to date" : "STALE"}: ${shown}`);
  } else {
    if (!same) writeFileSync(path, text);
    console.log(`${same ? "unchanged" : "wrote"}: ${shown}`);
  }
}
if (stale) {
  console.error(`${stale} artifact(s) differ from the sources: run npm run build --prefix contracts`);
  process.exit(1);
}
