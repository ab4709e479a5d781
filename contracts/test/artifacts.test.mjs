// The committed artifacts are what the sources compile to, and the ABI is the one the agent's Java
// side is written against (docs/escrow.md): a change to either fails here first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Interface } from "ethers";
import { ARTIFACT_DIR, SOLIDITY_DIR, buildArtifacts, sha256 } from "../lib/compile.mjs";

const committed = (name) => readFileSync(join(ARTIFACT_DIR, name), "utf8");

test("artifacts match source: recompiling gives the committed files byte for byte", () => {
  const { files } = buildArtifacts();
  assert.deepEqual(Object.keys(files).sort(), ["GpuEscrow.json", "TestToken.json"]);
  for (const [name, text] of Object.entries(files)) {
    assert.equal(committed(name), text, `${name} is stale: run npm run build --prefix contracts and commit it`);
  }
});

test("artifact carries the compiler settings and the source's hash", () => {
  const a = JSON.parse(committed("GpuEscrow.json"));
  assert.deepEqual(Object.keys(a).sort(), ["abi", "bytecode", "compiler", "contractName", "deployedBytecode", "sourceName", "sourceSha256"]);
  assert.equal(a.contractName, "GpuEscrow");
  assert.match(a.compiler.version, /^0\.8\.28\+commit\./);
  assert.equal(a.compiler.evmVersion, "shanghai");
  assert.equal(a.compiler.viaIR, false);
  assert.equal(a.compiler.metadataBytecodeHash, "none");
  assert.equal(a.compiler.openzeppelin, "5.4.0");
  assert.deepEqual(a.compiler.optimizer, { enabled: true, runs: 10000 });
  assert.equal(a.sourceSha256, sha256(readFileSync(join(SOLIDITY_DIR, "GpuEscrow.sol"), "utf8")));
  assert.match(a.bytecode, /^0x[0-9a-f]+$/);
  assert.match(a.deployedBytecode, /^0x[0-9a-f]+$/);
  // EIP-170: deployed code must stay under 24,576 bytes
  assert.ok((a.deployedBytecode.length - 2) / 2 < 24_576);
  const t = JSON.parse(committed("TestToken.json"));
  assert.equal(t.contractName, "TestToken");
});

test("GpuEscrow's ABI is exactly the agreed one (functions, events, errors)", () => {
  const iface = new Interface(JSON.parse(committed("GpuEscrow.json")).abi);
  const fn = (name) => iface.getFunction(name).format("full");
  const agreed = {
    open: "function open(address provider, uint256 deposit, uint256 maxRatePerSecond, uint64 maxDurationSeconds, address voucherSigner) returns (bytes32 rentalId)",
    claim: "function claim(bytes32 rentalId, uint64 cumulativeSeconds, uint256 cumulativeAmount, bytes signature, bool close)",
    claimBatch: "function claimBatch((bytes32 rentalId, uint64 cumulativeSeconds, uint256 cumulativeAmount, bytes signature, bool close)[] claims)",
    requestClose: "function requestClose(bytes32 rentalId)",
    reclaim: "function reclaim(bytes32 rentalId)",
    withdraw: "function withdraw()",
    withdrawFees: "function withdrawFees(address to)",
    setFeeBps: "function setFeeBps(uint16 feeBps)",
    nonces: "function nonces(address renter) view returns (uint256)",
    withdrawable: "function withdrawable(address account) view returns (uint256)",
    feesAccrued: "function feesAccrued() view returns (uint256)",
    token: "function token() view returns (address)",
    platform: "function platform() view returns (address)",
    feeBps: "function feeBps() view returns (uint16)",
    settleWindow: "function settleWindow() view returns (uint64)",
    domainSeparator: "function domainSeparator() view returns (bytes32)",
  };
  for (const [name, full] of Object.entries(agreed)) assert.equal(fn(name), full);
  assert.equal(iface.deploy.format("full"), "constructor(address token, address platform, uint16 feeBps, uint64 settleWindowSeconds)");
  assert.equal(
    iface.getFunction("rental").format("sighash") + " -> " + iface.getFunction("rental").outputs.map((o) => `${o.type} ${o.name}`).join(", "),
    "rental(bytes32) -> address renter, address provider, address voucherSigner, uint256 deposit, uint256 claimed, " +
      "uint256 maxRatePerSecond, uint64 openedAt, uint64 deadline, uint64 maxDurationSeconds, uint16 feeBps, bool closed",
  );

  const events = [];
  iface.forEachEvent((e) => events.push(e.format("full")));
  assert.deepEqual(events.sort(), [
    "event Claimed(bytes32 indexed rentalId, address indexed provider, uint64 cumulativeSeconds, uint256 cumulativeAmount, uint256 paid, uint256 fee)",
    "event CloseRequested(bytes32 indexed rentalId, uint64 deadline)",
    "event EIP712DomainChanged()",
    "event FeeChanged(uint16 feeBps)",
    "event FeesWithdrawn(address indexed to, uint256 amount)",
    "event Reclaimed(bytes32 indexed rentalId, uint256 refund)",
    "event RentalClosed(bytes32 indexed rentalId, uint256 providerTotal, uint256 refund)",
    "event RentalOpened(bytes32 indexed rentalId, address indexed renter, address indexed provider, uint256 deposit, uint256 maxRatePerSecond, uint64 maxDurationSeconds, address voucherSigner, uint16 feeBps, uint64 deadline)",
    "event Withdrawn(address indexed account, uint256 amount)",
  ]);

  const errors = [];
  iface.forEachError((e) => errors.push(e.format("sighash")));
  for (const e of [
    "FeeTooHigh(uint256)", "ZeroAddress()", "ZeroDeposit()", "ZeroDuration()", "UnknownRental(bytes32)",
    "RentalClosedAlready(bytes32)", "NotProvider(bytes32,address)", "NotRenter(bytes32,address)", "NotPlatform(address)",
    "PastDeadline(bytes32,uint64)", "BeforeDeadline(bytes32,uint64)", "BadSignature(bytes32)",
    "AmountNotIncreasing(bytes32,uint256,uint256)", "OverDeposit(bytes32,uint256,uint256)", "OverRate(bytes32,uint256,uint256)",
    "SecondsInFuture(bytes32,uint64,uint64)", "OverDuration(bytes32,uint64,uint64)", "NothingToWithdraw(address)", "EmptyBatch()",
  ]) {
    assert.ok(errors.includes(e), `missing error ${e}`);
  }
});

test("TestToken is the 6-decimal, openly mintable Test USD", () => {
  const iface = new Interface(JSON.parse(committed("TestToken.json")).abi);
  assert.equal(iface.getFunction("mint").format("sighash"), "mint(address,uint256)");
  assert.equal(iface.getFunction("decimals").format("sighash"), "decimals()");
});
