// The attacks docs/escrow.md analyses, each pinned by a test: voucher replay across chains and
// contracts, signature malleability, double claims, rental-id squatting, re-entrancy through a
// malicious token, and refund griefing by a renter who cannot receive.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Signature, concat, toBeHex, zeroPadValue, getAddress, dataSlice } from "ethers";
import { startChain, deploy, loadArtifact, openRental } from "../lib/chain.mjs";
import { compileFixtures } from "../lib/compile.mjs";
import { setup, expectRevert, expectedRentalId, USD } from "./fixture.mjs";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

let chain;
let fixtures;
before(async () => {
  fixtures = compileFixtures(["Actor.sol", "ReentrantToken.sol", "BlocklistToken.sol"]);
  chain = await startChain();
});
after(async () => {
  await chain.stop();
});

describe("voucher replay", () => {
  test("a voucher signed for another chain id is rejected (BadSignature); the same voucher for 1337 pays", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    const foreign = await ctx.sign(id, 10n, 10_000n, { chainId: 137n });
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 10n, 10_000n, foreign, false), ctx.escrow, "BadSignature", [id]);
    await ctx.claim(id, 10n, 10_000n);
    assert.equal((await ctx.escrow.rental(id)).claimed, 10_000n);
  });

  test("two escrows: ids differ, a voucher of one is worthless at the other", async () => {
    const a = await setup(chain);
    const escrowB = await deploy(loadArtifact("GpuEscrow"), a.platform, await a.token.getAddress(), a.platform.address, 1000, 3600);
    await (await a.token.connect(a.renter).approve(escrowB.target, 2n ** 256n - 1n)).wait();
    const rentalA = (await a.open()).id;
    const rentalB = (await openRental(escrowB, a.renter, a.terms)).id;
    // same renter, same nonce 0: the contract address in the id keeps them apart
    assert.notEqual(rentalA, rentalB);
    assert.equal(rentalA, expectedRentalId(a.escrowAddress, a.renter.address, 0n));
    assert.equal(rentalB, expectedRentalId(escrowB.target, a.renter.address, 0n));
    await chain.increaseTime(100);

    // A's voucher (A's id, A's domain) replayed at B: no such rental there
    const sigA = await a.sign(rentalA, 10n, 10_000n);
    await expectRevert(escrowB.connect(a.provider).claim(rentalA, 10n, 10_000n, sigA, false), escrowB, "UnknownRental", [rentalA]);
    // a voucher for B's id but signed under A's domain (verifyingContract = A) is rejected by B
    const crossDomain = await a.sign(rentalB, 10n, 10_000n, { at: a.escrowAddress });
    await expectRevert(escrowB.connect(a.provider).claim(rentalB, 10n, 10_000n, crossDomain, false), escrowB, "BadSignature", [rentalB]);
    assert.equal((await escrowB.rental(rentalB)).claimed, 0n);
    // the voucher under B's own domain pays
    const sigB = await a.sign(rentalB, 10n, 10_000n, { at: escrowB.target });
    await (await escrowB.connect(a.provider).claim(rentalB, 10n, 10_000n, sigB, false)).wait();
    assert.equal((await escrowB.rental(rentalB)).claimed, 10_000n);
  });
});

describe("signature malleability", () => {
  test("the high-s twin (a valid ECDSA signature for ecrecover) and a flipped v are both BadSignature", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    const original = Signature.from(await ctx.sign(id, 10n, 10_000n));
    const digest = await ctx.escrow.voucherDigest(id, 10n, 10_000n);
    const flippedV = original.v === 27 ? 28 : 27;
    const highS = concat([original.r, toBeHex(SECP256K1_N - BigInt(original.s), 32), toBeHex(flippedV, 1)]);

    // the precompile recovers the real voucher signer from the high-s twin: a naive contract would pay it
    const recovered = await chain.provider.call({
      to: "0x0000000000000000000000000000000000000001",
      data: concat([digest, zeroPadValue(toBeHex(flippedV), 32), original.r, toBeHex(SECP256K1_N - BigInt(original.s), 32)]),
    });
    assert.equal(getAddress(dataSlice(recovered, 12)), ctx.vw.address);

    const claimWith = (sig) => ctx.escrow.connect(ctx.provider).claim(id, 10n, 10_000n, sig, false);
    await expectRevert(claimWith(highS), ctx.escrow, "BadSignature", [id]);
    // same r and s, the other v: recovers someone else
    await expectRevert(claimWith(concat([original.r, original.s, toBeHex(flippedV, 1)])), ctx.escrow, "BadSignature", [id]);
    // v as 0/1 instead of 27/28
    await expectRevert(claimWith(concat([original.r, original.s, toBeHex(original.v - 27, 1)])), ctx.escrow, "BadSignature", [id]);
    // the 64-byte EIP-2098 form of the very same signature
    await expectRevert(claimWith(original.compactSerialized), ctx.escrow, "BadSignature", [id]);
    assert.equal((await ctx.escrow.rental(id)).claimed, 0n);
    // the canonical form pays, once
    await (await claimWith(original.serialized)).wait();
    assert.equal((await ctx.escrow.rental(id)).claimed, 10_000n);
  });
});

describe("double claim", () => {
  test("the same voucher twice pays once (claim, then claim and claimBatch again)", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    const sig = await ctx.sign(id, 50n, 50_000n);
    await (await ctx.escrow.connect(ctx.provider).claim(id, 50n, 50_000n, sig, false)).wait();
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 50n, 50_000n, sig, false), ctx.escrow, "AmountNotIncreasing", [id, 50_000n, 50_000n]);
    const entry = { rentalId: id, cumulativeSeconds: 50n, cumulativeAmount: 50_000n, signature: sig, close: false };
    await expectRevert(ctx.escrow.connect(ctx.provider).claimBatch([entry]), ctx.escrow, "AmountNotIncreasing", [id, 50_000n, 50_000n]);
    // closing with it is allowed (pays nothing more); after that every use is RentalClosedAlready
    await (await ctx.escrow.connect(ctx.provider).claim(id, 50n, 50_000n, sig, true)).wait();
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 50n, 50_000n, sig, true), ctx.escrow, "RentalClosedAlready", [id]);
    assert.equal(await ctx.balance(ctx.provider), 45_000n);
    assert.equal(await ctx.escrow.feesAccrued(), 5_000n);
  });
});

describe("rental-id squatting", () => {
  test("ids are derived from the caller and its nonce: others opening first cannot take or block the renter's id", async () => {
    const ctx = await setup(chain);
    const { escrow, renter, stranger } = ctx;
    const expected0 = expectedRentalId(ctx.escrowAddress, renter.address, 0n);
    const expected1 = expectedRentalId(ctx.escrowAddress, renter.address, 1n);
    // an attacker who knows the renter's next id opens rentals of its own first
    await (await ctx.token.mint(stranger.address, 10n * USD)).wait();
    await (await ctx.token.connect(stranger).approve(ctx.escrowAddress, 10n * USD)).wait();
    const squat = await ctx.open({ deposit: USD }, stranger);
    const squat2 = await ctx.open({ deposit: USD }, stranger);
    assert.equal(squat.id, expectedRentalId(ctx.escrowAddress, stranger.address, 0n));
    assert.equal(squat2.id, expectedRentalId(ctx.escrowAddress, stranger.address, 1n));
    assert.equal((await escrow.rental(expected0)).renter, "0x0000000000000000000000000000000000000000");
    // the renter still gets exactly the ids it predicted, in order
    assert.equal((await ctx.open()).id, expected0);
    assert.equal((await ctx.open()).id, expected1);
    assert.equal((await escrow.rental(expected0)).renter, renter.address);
    assert.equal(await escrow.nonces(renter.address), 2n);
    assert.equal(await escrow.nonces(stranger.address), 2n);
  });
});

describe("re-entrancy through a malicious token", () => {
  // The escrow runs on ReentrantToken; an Actor contract is the provider or the renter, and the
  // token, mid-transfer, makes the Actor call the escrow again.
  async function reentrantSetup() {
    const ctx = await setup(chain, { tokenArtifact: fixtures.ReentrantToken });
    const actor = await deploy(fixtures.Actor, ctx.platform);
    const exec = (to, data) => actor.interface.encodeFunctionData("exec", [to, data]);
    const asActor = async (to, data) => (await actor.exec(to, data)).wait();
    const arm = async (call) => (await ctx.token.arm(actor.target, exec(ctx.escrowAddress, call))).wait();
    const reentry = async () => {
      const succeeded = await ctx.token.succeeded();
      // on failure `returned` is the escrow's revert data (the Actor bubbles it up unchanged)
      const error = succeeded ? null : ctx.escrow.interface.parseError(await ctx.token.returned())?.name ?? "undecodable";
      return { attempted: await ctx.token.attempted(), succeeded, error };
    };
    return { ...ctx, actor, asActor, arm, reentry, enc: (fn, args) => ctx.escrow.interface.encodeFunctionData(fn, args) };
  }

  test("claim -> claim (the same voucher again) is refused by the guard; paid once", async () => {
    const ctx = await reentrantSetup();
    const { id } = await ctx.open({ provider: ctx.actor.target });
    await chain.increaseTime(100);
    const sig = await ctx.sign(id, 50n, 50_000n);
    const claim = ctx.enc("claim", [id, 50n, 50_000n, sig, false]);
    await ctx.arm(claim);
    await ctx.asActor(ctx.escrowAddress, claim);
    assert.deepEqual(await ctx.reentry(), { attempted: true, succeeded: false, error: "ReentrancyGuardReentrantCall" });
    assert.equal(await ctx.balance(ctx.actor.target), 45_000n);
    assert.equal((await ctx.escrow.rental(id)).claimed, 50_000n);
  });

  test("claimBatch -> claim with a higher voucher is refused too", async () => {
    const ctx = await reentrantSetup();
    const { id } = await ctx.open({ provider: ctx.actor.target });
    await chain.increaseTime(100);
    const entry = { rentalId: id, cumulativeSeconds: 50n, cumulativeAmount: 50_000n, signature: await ctx.sign(id, 50n, 50_000n), close: false };
    await ctx.arm(ctx.enc("claim", [id, 60n, 60_000n, await ctx.sign(id, 60n, 60_000n), false]));
    await ctx.asActor(ctx.escrowAddress, ctx.enc("claimBatch", [[entry]]));
    assert.deepEqual(await ctx.reentry(), { attempted: true, succeeded: false, error: "ReentrancyGuardReentrantCall" });
    assert.equal((await ctx.escrow.rental(id)).claimed, 50_000n);
  });

  test("claim -> reclaim by the renter mid-payout is refused", async () => {
    const ctx = await reentrantSetup();
    // the Actor is the renter here: fund it and let it open
    await (await ctx.token.mint(ctx.actor.target, 100n * USD)).wait();
    await ctx.asActor(await ctx.token.getAddress(), ctx.token.interface.encodeFunctionData("approve", [ctx.escrowAddress, 100n * USD]));
    await ctx.asActor(ctx.escrowAddress, ctx.enc("open", [ctx.provider.address, 100n * USD, 1000n, 86_400n, ctx.vw.address]));
    const id = expectedRentalId(ctx.escrowAddress, ctx.actor.target, 0n);
    await chain.increaseTime(100);
    await ctx.arm(ctx.enc("reclaim", [id]));
    await ctx.claim(id, 50n, 50_000n);
    assert.deepEqual(await ctx.reentry(), { attempted: true, succeeded: false, error: "ReentrancyGuardReentrantCall" });
    assert.equal((await ctx.escrow.rental(id)).closed, false);
    assert.equal(await ctx.escrow.withdrawable(ctx.actor.target), 0n);
  });

  test("withdraw -> withdraw is refused; the refund is paid exactly once", async () => {
    const ctx = await reentrantSetup();
    await (await ctx.token.mint(ctx.actor.target, 100n * USD)).wait();
    await ctx.asActor(await ctx.token.getAddress(), ctx.token.interface.encodeFunctionData("approve", [ctx.escrowAddress, 100n * USD]));
    await ctx.asActor(ctx.escrowAddress, ctx.enc("open", [ctx.provider.address, 100n * USD, 1000n, 86_400n, ctx.vw.address]));
    const id = expectedRentalId(ctx.escrowAddress, ctx.actor.target, 0n);
    await chain.increaseTime(100);
    await ctx.claim(id, 50n, 50_000n, true);
    const refund = 100n * USD - 50_000n;
    assert.equal(await ctx.escrow.withdrawable(ctx.actor.target), refund);
    await ctx.arm(ctx.enc("withdraw", []));
    await ctx.asActor(ctx.escrowAddress, ctx.enc("withdraw", []));
    assert.deepEqual(await ctx.reentry(), { attempted: true, succeeded: false, error: "ReentrancyGuardReentrantCall" });
    assert.equal(await ctx.balance(ctx.actor.target), refund);
    assert.equal(await ctx.escrow.withdrawable(ctx.actor.target), 0n);
    // only the platform's fee is left in the escrow
    assert.equal(await ctx.balance(ctx.escrowAddress), 5_000n);
  });

  test("control: the hook really reaches the escrow (an unguarded requestClose from inside a payout succeeds)", async () => {
    const ctx = await reentrantSetup();
    await (await ctx.token.mint(ctx.actor.target, 100n * USD)).wait();
    await ctx.asActor(await ctx.token.getAddress(), ctx.token.interface.encodeFunctionData("approve", [ctx.escrowAddress, 100n * USD]));
    await ctx.asActor(ctx.escrowAddress, ctx.enc("open", [ctx.provider.address, 100n * USD, 1000n, 86_400n, ctx.vw.address]));
    const id = expectedRentalId(ctx.escrowAddress, ctx.actor.target, 0n);
    await chain.increaseTime(100);
    const before = (await ctx.escrow.rental(id)).deadline;
    await ctx.arm(ctx.enc("requestClose", [id]));
    await ctx.claim(id, 50n, 50_000n);
    assert.deepEqual(await ctx.reentry(), { attempted: true, succeeded: true, error: null });
    assert.ok((await ctx.escrow.rental(id)).deadline < before);
  });
});

describe("refund griefing", () => {
  // BlocklistToken refuses transfers to a blocked account, as USDC does for blacklisted addresses
  async function blocklistSetup() {
    return setup(chain, { tokenArtifact: fixtures.BlocklistToken });
  }

  test("a renter who cannot receive tokens cannot block the provider's close; the refund waits", async () => {
    const ctx = await blocklistSetup();
    const { escrow, token, renter, provider } = ctx;
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    await (await token.setBlocked(renter.address, true)).wait();
    await ctx.claim(id, 50n, 50_000n, true);
    assert.equal((await escrow.rental(id)).closed, true);
    assert.equal(await ctx.balance(provider), 45_000n);
    const refund = 100n * USD - 50_000n;
    assert.equal(await escrow.withdrawable(renter.address), refund);
    // the renter's own withdraw fails while blocked, and loses nothing
    await expectRevert(escrow.connect(renter).withdraw(), token, "Blocked", [renter.address]);
    assert.equal(await escrow.withdrawable(renter.address), refund);
    await (await token.setBlocked(renter.address, false)).wait();
    await (await escrow.connect(renter).withdraw()).wait();
    assert.equal(await escrow.withdrawable(renter.address), 0n);
  });

  test("a blocked renter's rental closes inside a batch with other rentals", async () => {
    const ctx = await blocklistSetup();
    const { escrow, token, renter, provider, stranger } = ctx;
    await (await token.mint(stranger.address, 100n * USD)).wait();
    await (await token.connect(stranger).approve(ctx.escrowAddress, 100n * USD)).wait();
    const blocked = (await ctx.open()).id;
    const fine = (await ctx.open({}, stranger)).id;
    await chain.increaseTime(100);
    await (await token.setBlocked(renter.address, true)).wait();
    const batch = [];
    for (const id of [blocked, fine]) {
      batch.push({ rentalId: id, cumulativeSeconds: 20n, cumulativeAmount: 20_000n, signature: await ctx.sign(id, 20n, 20_000n), close: true });
    }
    await (await escrow.connect(provider).claimBatch(batch)).wait();
    assert.equal((await escrow.rental(blocked)).closed, true);
    assert.equal((await escrow.rental(fine)).closed, true);
    assert.equal(await ctx.balance(provider), 36_000n);
    assert.equal(await escrow.withdrawable(renter.address), 100n * USD - 20_000n);
  });

  test("a blocked renter can still reclaim after the deadline (credit only, no transfer)", async () => {
    const ctx = await blocklistSetup();
    const { id, deadline } = await ctx.open({ duration: 60n });
    await (await ctx.token.setBlocked(ctx.renter.address, true)).wait();
    await chain.setTime(deadline + 1n);
    await (await ctx.escrow.connect(ctx.renter).reclaim(id)).wait();
    assert.equal(await ctx.escrow.withdrawable(ctx.renter.address), 100n * USD);
  });
});
