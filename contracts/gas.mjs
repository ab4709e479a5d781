// npm run gas: gas used by each escrow operation, measured in ONE run on an in-process ganache
// (chain id 1337, shanghai) from the committed artifacts; prints a markdown table.
// `--optimizer-runs N` compiles the sources with another optimizer setting instead (comparison only).
import { startChain, loadArtifact, deploy, signVoucher, voucherWallet, openRental } from "./lib/chain.mjs";
import { buildArtifacts } from "./lib/compile.mjs";

const runsArg = process.argv.indexOf("--optimizer-runs");
const artifacts =
  runsArg > 0
    ? buildArtifacts({ optimizerRuns: Number(process.argv[runsArg + 1]) }).artifacts
    : { GpuEscrow: loadArtifact("GpuEscrow"), TestToken: loadArtifact("TestToken") };

const BATCH = 10;
const chain = await startChain();
const [platform, renter, provider, other] = chain.signers;
const vw = voucherWallet(1);
const token = await deploy(artifacts.TestToken, platform);
const escrow = await deploy(artifacts.GpuEscrow, platform, await token.getAddress(), platform.address, 1000, 3600);
const escrowAddress = await escrow.getAddress();
const rows = [];
const gasOf = async (txPromise) => (await (await txPromise).wait()).gasUsed;
const record = (what, gas, note = "") => rows.push({ what, gas, note });

const USD = 1_000_000n; // TUSD has 6 decimals
await (await token.mint(renter.address, 1_000_000n * USD)).wait();
await (await token.mint(other.address, 1n)).wait();
await (await token.connect(renter).approve(escrowAddress, 2n ** 255n)).wait();

record("ERC-20 transfer (TestToken, recipient already holds a balance)",
  await gasOf(token.connect(renter).transfer(other.address, 5n * USD)));

const terms = { provider: provider.address, deposit: 100n * USD, rate: 1000n, duration: 86_400n, signer: vw.address };
const first = await openRental(escrow, renter, terms);
record("`open`, the renter's first rental", first.receipt.gasUsed, "nonce 0 -> 1");
const main = await openRental(escrow, renter, terms);
record("`open`", main.receipt.gasUsed, "a later rental of the same renter");

await chain.increaseTime(600);
const claim = (id, secs, close) =>
  signVoucher(vw, escrowAddress, id, secs, secs * 1000n).then((sig) =>
    escrow.connect(provider).claim(id, secs, secs * 1000n, sig, close));
record("`claim`, first voucher of the provider's first rental", await gasOf(claim(first.id, 100n, false)),
  "provider's token balance and feesAccrued 0 -> non-zero");
record("`claim`, first voucher of a rental", await gasOf(claim(main.id, 100n, false)));
record("**`claim`, steady state** (second voucher, close=false)", await gasOf(claim(main.id, 200n, false)),
  "target < 70k");
record("`claim` with close=true (final voucher)", await gasOf(claim(main.id, 300n, true)),
  "refund credited: renter's withdrawable 0 -> non-zero");
record("`claim` with close=true, steady state", await gasOf(claim(first.id, 300n, true)),
  "renter's withdrawable already non-zero");

// a batch of 10 running rentals that each had a first claim already
const ids = [];
for (let i = 0; i < BATCH; i++) ids.push((await openRental(escrow, renter, terms)).id);
await chain.increaseTime(600);
for (const id of ids) await (await claim(id, 100n, false)).wait();
const batch = async (secs, close) => {
  const entries = [];
  for (const id of ids) {
    entries.push({ rentalId: id, cumulativeSeconds: secs, cumulativeAmount: secs * 1000n,
      signature: await signVoucher(vw, escrowAddress, id, secs, secs * 1000n), close });
  }
  return gasOf(escrow.connect(provider).claimBatch(entries));
};
const batchGas = await batch(200n, false);
record(`**\`claimBatch\` of ${BATCH} rentals** (close=false), total`, batchGas);
record(`**\`claimBatch\` of ${BATCH}, per rental**`, batchGas / BigInt(BATCH), "target < 45k");
const batchCloseGas = await batch(300n, true);
record(`\`claimBatch\` of ${BATCH} with close=true, per rental`, batchCloseGas / BigInt(BATCH),
  `total ${batchCloseGas}`);

const last = await openRental(escrow, renter, terms);
record("`requestClose`", await gasOf(escrow.connect(renter).requestClose(last.id)));
await chain.increaseTime(3601);
record("`reclaim` (after the deadline)", await gasOf(escrow.connect(renter).reclaim(last.id)),
  "credits the refund");
record("`withdraw`", await gasOf(escrow.connect(renter).withdraw()), "renter's credited refunds");
record("`withdrawFees`", await gasOf(escrow.connect(platform).withdrawFees(platform.address)));
await chain.stop();

const runs = artifacts.GpuEscrow.compiler.optimizer.runs;
console.log(`GpuEscrow gas on ganache 7.9.2 (shanghai), solc ${artifacts.GpuEscrow.compiler.version}, optimizer runs ${runs}`);
console.log(`deployed code: ${(artifacts.GpuEscrow.deployedBytecode.length - 2) / 2} bytes\n`);
console.log("| operation | gas used | note |");
console.log("|---|---:|---|");
for (const r of rows) console.log(`| ${r.what} | ${r.gas.toLocaleString("en-US")} | ${r.note} |`);
