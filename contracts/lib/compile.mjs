// Compiles the escrow's Solidity sources with solc-js (standard JSON) and turns the output into the
// committed artifacts. Shared by build.mjs (writes them) and the tests (check them, compile fixtures).
import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

export const CONTRACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = resolve(CONTRACTS_DIR, "..");
export const SOLIDITY_DIR = join(REPO_DIR, "agent/src/main/solidity");
export const TEST_SOLIDITY_DIR = join(REPO_DIR, "agent/src/test/solidity");
export const ARTIFACT_DIR = join(REPO_DIR, "agent/src/main/resources/io/gpuagent/escrow");
const NODE_MODULES = join(CONTRACTS_DIR, "node_modules");

/** The contracts that ship: source unit name (relative to SOLIDITY_DIR) -> contract name. */
export const MAIN_CONTRACTS = { "GpuEscrow.sol": "GpuEscrow", "TestToken.sol": "TestToken" };

/**
 * Compiler settings, fixed here so that the artifacts are reproducible byte for byte.
 * - evmVersion shanghai: what Polygon PoS runs (PUSH0 yes, transient storage / MCOPY no).
 * - optimizer runs 10000: the contract is deployed once and claimed from millions of times, so
 *   runtime gas matters more than code size (docs/escrow.md has the figures for 200 and 10000).
 * - viaIR off: the legacy pipeline meets the gas targets and compiles in seconds.
 * - bytecodeHash none: no IPFS hash of the metadata (which holds absolute-path-free but
 *   comment-sensitive source hashes) in the bytecode; the CBOR tail then holds only solc's version.
 */
export const OPTIMIZER_RUNS = 10000;
export const SETTINGS = Object.freeze({
  evmVersion: "shanghai",
  viaIR: false,
  optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
});

export function sha256(text) {
  return createHash("sha256").update(text).digest("hex");
}

/** Reads the source unit `path`: OpenZeppelin from node_modules, ours from the solidity dirs. */
function findImport(path) {
  const candidates = path.startsWith("@")
    ? [join(NODE_MODULES, path)]
    : [join(SOLIDITY_DIR, path), join(TEST_SOLIDITY_DIR, path)];
  for (const file of candidates) {
    if (existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `not found: ${path} (looked in ${candidates.join(", ")})` };
}

/**
 * Compiles the given source units (names relative to the solidity dirs) and returns solc's output.
 * Throws with every error message when solc reports an error; warnings are returned.
 */
export function compile(unitNames, settings = SETTINGS) {
  const sources = {};
  for (const name of unitNames) {
    const found = findImport(name);
    if (found.error) throw new Error(found.error);
    sources[name] = { content: found.contents };
  }
  const input = { language: "Solidity", sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    throw new Error("solc failed:\n" + errors.map((e) => e.formattedMessage).join("\n"));
  }
  output.warnings = diagnostics.filter((d) => d.severity !== "error").map((d) => d.formattedMessage);
  return output;
}

function ozVersion() {
  return JSON.parse(readFileSync(join(NODE_MODULES, "@openzeppelin/contracts/package.json"), "utf8")).version;
}

/** JSON with keys sorted at every level, 2-space indent and a trailing newline. */
export function stableStringify(value) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + "\n";
}

/**
 * Compiles the shipped contracts; returns { files: { fileName: artifactText } for ARTIFACT_DIR,
 * artifacts: { contractName: artifact }, warnings }. `optimizerRuns` other than the default is for
 * comparisons only (gas.mjs --optimizer-runs): such artifacts are never written.
 */
export function buildArtifacts({ optimizerRuns = OPTIMIZER_RUNS } = {}) {
  const units = Object.keys(MAIN_CONTRACTS);
  const settings = { ...SETTINGS, optimizer: { enabled: true, runs: optimizerRuns } };
  const output = compile(units, settings);
  const files = {};
  const artifacts = {};
  const compiler = {
    evmVersion: SETTINGS.evmVersion,
    metadataBytecodeHash: SETTINGS.metadata.bytecodeHash,
    name: "solc-js",
    openzeppelin: ozVersion(),
    optimizer: { ...settings.optimizer },
    version: solc.version(),
    viaIR: SETTINGS.viaIR,
  };
  for (const unit of units) {
    const name = MAIN_CONTRACTS[unit];
    const c = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      sourceName: unit,
      sourceSha256: sha256(readFileSync(join(SOLIDITY_DIR, unit), "utf8")),
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      compiler,
    };
    files[`${name}.json`] = stableStringify(artifact);
    artifacts[name] = artifact;
  }
  return { files, artifacts, warnings: output.warnings };
}

/** Compiles test-only contracts from agent/src/test/solidity; returns { name: {abi, bytecode} }. */
export function compileFixtures(unitNames) {
  const output = compile(unitNames);
  const result = {};
  for (const unit of unitNames) {
    for (const [name, c] of Object.entries(output.contracts[unit])) {
      result[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
    }
  }
  return result;
}
