// Shared by the escrow tests: a fresh token + escrow per test on one in-process chain, voucher
// signing, and revert assertions that decode the custom error.
import assert from "node:assert/strict";
import { AbiCoder, keccak256 } from "ethers";
import {
  deploy,
  loadArtifact,
  openRental,
  signVoucher,
  voucherWallet,
  decodeRevert,
  CHAIN_ID,
} from "../lib/chain.mjs";

export const USD = 1_000_000n; // 6 decimals
export const SETTLE = 3600n;
export const FEE_BPS = 1000n;

/**
 * Deploys a token (TestToken unless `tokenArtifact`) and a GpuEscrow (platform = signer 0), mints
 * 1,000,000 tokens to the renter (signer 1) and approves the escrow. Signers: 0 platform, 1 renter,
 * 2 provider, 3 stranger. The voucher key is voucherWallet(1).
 */
export async function setup(chain, { feeBps = FEE_BPS, settle = SETTLE, tokenArtifact } = {}) {
  const [platform, renter, provider, stranger] = chain.signers;
  const token = await deploy(tokenArtifact ?? loadArtifact("TestToken"), platform);
  const escrow = await deploy(loadArtifact("GpuEscrow"), platform, await token.getAddress(), platform.address, feeBps, settle);
  const escrowAddress = await escrow.getAddress();
  await (await token.mint(renter.address, 1_000_000n * USD)).wait();
  await (await token.connect(renter).approve(escrowAddress, 2n ** 256n - 1n)).wait();
  const vw = voucherWallet(1);
  const ctx = {
    chain, token, escrow, escrowAddress, platform, renter, provider, stranger, vw,
    terms: { provider: provider.address, deposit: 100n * USD, rate: 1000n, duration: 86_400n, signer: vw.address },
    /** Opens a rental (default terms: 100 TUSD, 1000 base units/s, 1 day); returns { id, receipt, openedAt, deadline }. */
    async open(overrides = {}, as = renter) {
      const { id, receipt } = await openRental(escrow, as, { ...ctx.terms, ...overrides });
      const r = await escrow.rental(id);
      return { id, receipt, openedAt: r.openedAt, deadline: r.deadline };
    },
    sign(id, secs, amount, { wallet = vw, chainId = CHAIN_ID, at = escrowAddress } = {}) {
      return signVoucher(wallet, at, id, secs, amount, chainId);
    },
    /** Signs a voucher and claims it as `as` (the provider); returns the receipt. */
    async claim(id, secs, amount, close = false, as = provider) {
      const sig = await ctx.sign(id, secs, amount);
      return (await escrow.connect(as).claim(id, secs, amount, sig, close)).wait();
    },
    balance: (a) => token.balanceOf(a.address ?? a),
  };
  return ctx;
}

/** Asserts that `action` (a promise or a function returning one) reverts with custom error `name`(`args`). */
export async function expectRevert(action, contract, name, args) {
  let error;
  try {
    const tx = await (typeof action === "function" ? action() : action);
    if (tx && typeof tx.wait === "function") await tx.wait();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected a revert with ${name}, but the call succeeded`);
  const decoded = decodeRevert(contract, error);
  assert.ok(decoded, `expected ${name}, got an undecodable failure: ${error.shortMessage ?? error.message}`);
  assert.equal(decoded.name, name, `expected ${name}(${args ?? ""}), got ${decoded.name}(${decoded.args})`);
  if (args !== undefined) assert.deepEqual(decoded.args, args);
}

/** The rental id the contract derives: keccak256(abi.encode(chainid, escrow, renter, nonce)). */
export function expectedRentalId(escrowAddress, renter, nonce, chainId = CHAIN_ID) {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["uint256", "address", "address", "uint256"], [chainId, escrowAddress, renter, nonce]),
  );
}

/** The events `contract` emitted in `receipt`, as [{ name, args }]. */
export function eventsOf(contract, receipt) {
  const target = contract.target.toLowerCase();
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === target)
    .map((l) => contract.interface.parseLog(l))
    .filter(Boolean)
    .map((p) => ({ name: p.name, args: p.args.toObject() }));
}
