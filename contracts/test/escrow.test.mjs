// GpuEscrow's rules: the rental lifecycle and every revert path of every function, on a real EVM
// (in-process ganache, shanghai) with real EIP-712 signatures, from the committed artifacts.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ZeroAddress, ZeroHash } from "ethers";
import { startChain, loadArtifact, deploy } from "../lib/chain.mjs";
import { setup, expectRevert, eventsOf, USD, SETTLE, FEE_BPS } from "./fixture.mjs";

let chain;
before(async () => {
  chain = await startChain();
});
after(async () => {
  await chain.stop();
});

describe("constructor", () => {
  test("stores token, platform, fee and settle window", async () => {
    const { escrow, token, platform } = await setup(chain, { feeBps: 1234n, settle: 777n });
    assert.equal(await escrow.token(), await token.getAddress());
    assert.equal(await escrow.platform(), platform.address);
    assert.equal(await escrow.feeBps(), 1234n);
    assert.equal(await escrow.settleWindow(), 777n);
  });

  test("fee above 1500 bps reverts FeeTooHigh; 1500 is accepted", async () => {
    const [platform] = chain.signers;
    const artifact = loadArtifact("GpuEscrow");
    const token = await deploy(loadArtifact("TestToken"), platform);
    const probe = await deploy(artifact, platform, await token.getAddress(), platform.address, 1500, 60);
    assert.equal(await probe.feeBps(), 1500n);
    await expectRevert(deploy(artifact, platform, await token.getAddress(), platform.address, 1501, 60), probe, "FeeTooHigh", [1501n]);
  });

  test("zero token or platform reverts ZeroAddress", async () => {
    const [platform] = chain.signers;
    const artifact = loadArtifact("GpuEscrow");
    const token = await deploy(loadArtifact("TestToken"), platform);
    const probe = await deploy(artifact, platform, await token.getAddress(), platform.address, 0, 60);
    await expectRevert(deploy(artifact, platform, ZeroAddress, platform.address, 0, 60), probe, "ZeroAddress", []);
    await expectRevert(deploy(artifact, platform, await token.getAddress(), ZeroAddress, 0, 60), probe, "ZeroAddress", []);
  });
});

describe("open", () => {
  test("pulls the deposit, derives the id, snapshots the terms and emits RentalOpened", async () => {
    const ctx = await setup(chain);
    const { escrow, renter, provider, vw } = ctx;
    const before = await ctx.balance(renter);
    const { id, receipt, openedAt } = await ctx.open();
    const block = await chain.provider.getBlock(receipt.blockNumber);
    assert.equal(openedAt, BigInt(block.timestamp));
    assert.equal(await ctx.balance(renter), before - 100n * USD);
    assert.equal(await ctx.balance(ctx.escrowAddress), 100n * USD);
    const r = await escrow.rental(id);
    assert.deepEqual([...r], [
      renter.address, provider.address, vw.address, 100n * USD, 0n, 1000n,
      openedAt, openedAt + 86_400n + SETTLE, 86_400n, FEE_BPS, false,
    ]);
    assert.equal(await escrow.nonces(renter.address), 1n);
    assert.deepEqual(eventsOf(escrow, receipt), [{
      name: "RentalOpened",
      args: {
        rentalId: id, renter: renter.address, provider: provider.address, deposit: 100n * USD, maxRatePerSecond: 1000n,
        maxDurationSeconds: 86_400n, voucherSigner: vw.address, feeBps: FEE_BPS, deadline: openedAt + 86_400n + SETTLE,
      },
    }]);
  });

  test("zero provider or voucher signer reverts ZeroAddress", async () => {
    const ctx = await setup(chain);
    await expectRevert(ctx.open({ provider: ZeroAddress }), ctx.escrow, "ZeroAddress", []);
    await expectRevert(ctx.open({ signer: ZeroAddress }), ctx.escrow, "ZeroAddress", []);
  });

  test("zero deposit reverts ZeroDeposit, zero duration ZeroDuration", async () => {
    const ctx = await setup(chain);
    await expectRevert(ctx.open({ deposit: 0n }), ctx.escrow, "ZeroDeposit", []);
    await expectRevert(ctx.open({ duration: 0n }), ctx.escrow, "ZeroDuration", []);
    assert.equal(await ctx.escrow.nonces(ctx.renter.address), 0n);
  });

  test("a deposit or rate beyond uint128 reverts (SafeCast) instead of being truncated", async () => {
    const ctx = await setup(chain);
    await expectRevert(ctx.open({ deposit: 2n ** 128n }), ctx.escrow, "SafeCastOverflowedUintDowncast", [128n, 2n ** 128n]);
    await expectRevert(ctx.open({ rate: 2n ** 128n }), ctx.escrow, "SafeCastOverflowedUintDowncast", [128n, 2n ** 128n]);
  });

  test("a duration whose deadline overflows uint64 reverts (SafeCast)", async () => {
    const ctx = await setup(chain);
    const max = 2n ** 64n - 1n;
    await expectRevert(ctx.open({ duration: max }), ctx.escrow, "SafeCastOverflowedUintDowncast");
  });

  test("without allowance the token's own error comes back and nothing is booked", async () => {
    const ctx = await setup(chain);
    await (await ctx.token.connect(ctx.renter).approve(ctx.escrowAddress, 0n)).wait();
    await expectRevert(ctx.open(), ctx.token, "ERC20InsufficientAllowance", [ctx.escrowAddress, 0n, 100n * USD]);
    assert.equal(await ctx.escrow.nonces(ctx.renter.address), 0n);
  });
});

describe("claim", () => {
  test("pays delta minus fee, accrues the fee, emits Claimed; the next voucher pays only the increase", async () => {
    const ctx = await setup(chain);
    const { escrow, provider } = ctx;
    const { id } = await ctx.open();
    await chain.increaseTime(500);
    const r1 = await ctx.claim(id, 100n, 100_000n);
    assert.equal(await ctx.balance(provider), 90_000n);
    assert.equal(await escrow.feesAccrued(), 10_000n);
    assert.deepEqual(eventsOf(escrow, r1), [{
      name: "Claimed",
      args: { rentalId: id, provider: provider.address, cumulativeSeconds: 100n, cumulativeAmount: 100_000n, paid: 90_000n, fee: 10_000n },
    }]);
    await ctx.claim(id, 300n, 250_000n);
    assert.equal(await ctx.balance(provider), 90_000n + 135_000n);
    assert.equal(await escrow.feesAccrued(), 25_000n);
    const r = await escrow.rental(id);
    assert.equal(r.claimed, 250_000n);
    assert.equal(r.closed, false);
    assert.equal(await ctx.balance(ctx.escrowAddress), 100n * USD - 225_000n);
  });

  test("the fee is rounded down per claim: the provider keeps the remainder", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    // 9,999 * 1000 / 10000 = 999.9 -> 999
    const receipt = await ctx.claim(id, 10n, 9_999n);
    assert.equal(await ctx.escrow.feesAccrued(), 999n);
    assert.equal(await ctx.balance(ctx.provider), 9_000n);
    assert.equal(eventsOf(ctx.escrow, receipt)[0].args.fee, 999n);
  });

  test("close=true credits the refund to withdrawable, closes, emits RentalClosed", async () => {
    const ctx = await setup(chain);
    const { escrow, renter } = ctx;
    const { id } = await ctx.open();
    await chain.increaseTime(1000);
    await ctx.claim(id, 100n, 100_000n);
    const receipt = await ctx.claim(id, 400n, 400_000n, true);
    const refund = 100n * USD - 400_000n;
    assert.equal(await escrow.withdrawable(renter.address), refund);
    assert.equal((await escrow.rental(id)).closed, true);
    assert.deepEqual(eventsOf(escrow, receipt).map((e) => e.name), ["Claimed", "RentalClosed"]);
    assert.deepEqual(eventsOf(escrow, receipt)[1].args, { rentalId: id, providerTotal: 400_000n, refund });
    // the refund stays in the escrow until the renter withdraws it
    assert.equal(await ctx.balance(ctx.escrowAddress), refund + 40_000n);
  });

  test("close=true at the amount already claimed closes without paying anything more", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(1000);
    await ctx.claim(id, 100n, 100_000n);
    const paidBefore = await ctx.balance(ctx.provider);
    const receipt = await ctx.claim(id, 100n, 100_000n, true);
    assert.equal(await ctx.balance(ctx.provider), paidBefore);
    assert.equal((await ctx.escrow.rental(id)).closed, true);
    assert.equal(eventsOf(ctx.escrow, receipt)[0].args.paid, 0n);
    assert.equal(await ctx.escrow.withdrawable(ctx.renter.address), 100n * USD - 100_000n);
  });

  test("close=true with the whole deposit used credits no refund", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open({ deposit: 50_000n });
    await chain.increaseTime(1000);
    await ctx.claim(id, 50n, 50_000n, true);
    assert.equal(await ctx.escrow.withdrawable(ctx.renter.address), 0n);
    assert.equal(await ctx.balance(ctx.escrowAddress), 5_000n);
  });

  test("unknown rental reverts UnknownRental", async () => {
    const ctx = await setup(chain);
    const bogus = "0x" + "ab".repeat(32);
    const sig = await ctx.sign(bogus, 1n, 1n);
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(bogus, 1n, 1n, sig, false), ctx.escrow, "UnknownRental", [bogus]);
  });

  test("claim by anyone but the provider reverts NotProvider (renter and stranger alike)", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    const sig = await ctx.sign(id, 10n, 10_000n);
    for (const who of [ctx.renter, ctx.stranger, ctx.platform]) {
      await expectRevert(ctx.escrow.connect(who).claim(id, 10n, 10_000n, sig, false), ctx.escrow, "NotProvider", [id, who.address]);
    }
  });

  test("claim after close reverts RentalClosedAlready", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    await ctx.claim(id, 10n, 10_000n, true);
    await expectRevert(ctx.claim(id, 20n, 20_000n), ctx.escrow, "RentalClosedAlready", [id]);
  });

  test("claim at the deadline succeeds; one second later reverts PastDeadline", async () => {
    const ctx = await setup(chain);
    const { id, deadline } = await ctx.open({ duration: 600n });
    await chain.setTime(deadline);
    const receipt = await ctx.claim(id, 300n, 300_000n);
    assert.equal(BigInt((await chain.provider.getBlock(receipt.blockNumber)).timestamp), deadline);
    await chain.setTime(deadline + 1n);
    await expectRevert(ctx.claim(id, 400n, 400_000n), ctx.escrow, "PastDeadline", [id, deadline]);
  });

  test("a voucher not above what was claimed reverts AmountNotIncreasing (same voucher twice, a lower one)", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(1000);
    await ctx.claim(id, 200n, 200_000n);
    await expectRevert(ctx.claim(id, 200n, 200_000n), ctx.escrow, "AmountNotIncreasing", [id, 200_000n, 200_000n]);
    await expectRevert(ctx.claim(id, 100n, 100_000n), ctx.escrow, "AmountNotIncreasing", [id, 200_000n, 100_000n]);
    await expectRevert(ctx.claim(id, 100n, 100_000n, true), ctx.escrow, "AmountNotIncreasing", [id, 200_000n, 100_000n]);
  });

  test("a first voucher of 0 with close=false reverts AmountNotIncreasing", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(10);
    await expectRevert(ctx.claim(id, 0n, 0n), ctx.escrow, "AmountNotIncreasing", [id, 0n, 0n]);
  });

  test("a voucher above the deposit reverts OverDeposit", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open({ deposit: 10_000n });
    await chain.increaseTime(100);
    await expectRevert(ctx.claim(id, 20n, 10_001n), ctx.escrow, "OverDeposit", [id, 10_001n, 10_000n]);
    await ctx.claim(id, 20n, 10_000n);
  });

  test("a voucher above rate x seconds reverts OverRate", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    await expectRevert(ctx.claim(id, 50n, 50_001n), ctx.escrow, "OverRate", [id, 50_001n, 50_000n]);
    await ctx.claim(id, 50n, 50_000n);
  });

  test("more seconds than have elapsed since open reverts SecondsInFuture", async () => {
    const ctx = await setup(chain);
    const { id, openedAt } = await ctx.open();
    await chain.setTime(openedAt + 60n);
    await expectRevert(ctx.claim(id, 61n, 1_000n), ctx.escrow, "SecondsInFuture", [id, 61n, 60n]);
    await ctx.claim(id, 60n, 1_000n);
  });

  test("more seconds than the maximum duration reverts OverDuration", async () => {
    const ctx = await setup(chain);
    const { id, openedAt } = await ctx.open({ duration: 100n });
    await chain.setTime(openedAt + 150n);
    await expectRevert(ctx.claim(id, 101n, 1_000n), ctx.escrow, "OverDuration", [id, 101n, 100n]);
    await ctx.claim(id, 100n, 1_000n);
  });

  test("a voucher signed by another key, or a tampered one, reverts BadSignature", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    const { voucherWallet } = await import("../lib/chain.mjs");
    const wrong = await ctx.sign(id, 10n, 5_000n, { wallet: voucherWallet(2) });
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 10n, 5_000n, wrong, false), ctx.escrow, "BadSignature", [id]);
    const good = await ctx.sign(id, 10n, 5_000n);
    // the provider raises the amount (or the seconds) of a real voucher, within every other limit
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 10n, 5_001n, good, false), ctx.escrow, "BadSignature", [id]);
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 11n, 5_000n, good, false), ctx.escrow, "BadSignature", [id]);
    await expectRevert(ctx.escrow.connect(ctx.provider).claim(id, 10n, 5_000n, "0x", false), ctx.escrow, "BadSignature", [id]);
    assert.equal((await ctx.escrow.rental(id)).claimed, 0n);
  });

  test("voucherDigest and domainSeparator agree with ethers' EIP-712 hashing", async () => {
    const ctx = await setup(chain);
    const { TypedDataEncoder } = await import("ethers");
    const { escrowDomain, VOUCHER_TYPES } = await import("../lib/chain.mjs");
    const { id } = await ctx.open();
    const domain = escrowDomain(ctx.escrowAddress);
    assert.equal(await ctx.escrow.domainSeparator(), TypedDataEncoder.hashDomain(domain));
    assert.equal(
      await ctx.escrow.voucherDigest(id, 7n, 7_000n),
      TypedDataEncoder.hash(domain, VOUCHER_TYPES, { rentalId: id, cumulativeSeconds: 7n, cumulativeAmount: 7_000n }),
    );
  });
});

describe("claimBatch", () => {
  async function entries(ctx, ids, secs, amount, close = false) {
    const out = [];
    for (const id of ids) {
      out.push({ rentalId: id, cumulativeSeconds: secs, cumulativeAmount: amount, signature: await ctx.sign(id, secs, amount), close });
    }
    return out;
  }

  test("claims several rentals with one token transfer to the provider", async () => {
    const ctx = await setup(chain);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ctx.open()).id);
    await chain.increaseTime(1000);
    const batch = await entries(ctx, ids, 100n, 100_000n);
    batch[2].close = true;
    const receipt = await (await ctx.escrow.connect(ctx.provider).claimBatch(batch)).wait();
    assert.equal(await ctx.balance(ctx.provider), 3n * 90_000n);
    assert.equal(await ctx.escrow.feesAccrued(), 3n * 10_000n);
    for (const id of ids) assert.equal((await ctx.escrow.rental(id)).claimed, 100_000n);
    assert.equal((await ctx.escrow.rental(ids[2])).closed, true);
    assert.equal(await ctx.escrow.withdrawable(ctx.renter.address), 100n * USD - 100_000n);
    const transfers = receipt.logs.filter((l) => l.address === ctx.token.target).map((l) => ctx.token.interface.parseLog(l));
    assert.equal(transfers.length, 1, "one Transfer for the whole batch");
    assert.deepEqual([...transfers[0].args], [ctx.escrowAddress, ctx.provider.address, 270_000n]);
    assert.deepEqual(eventsOf(ctx.escrow, receipt).map((e) => e.name), ["Claimed", "Claimed", "Claimed", "RentalClosed"]);
  });

  test("two vouchers of one rental in one batch are booked in order", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(1000);
    const batch = [...(await entries(ctx, [id], 100n, 100_000n)), ...(await entries(ctx, [id], 200n, 200_000n))];
    await (await ctx.escrow.connect(ctx.provider).claimBatch(batch)).wait();
    assert.equal((await ctx.escrow.rental(id)).claimed, 200_000n);
    assert.equal(await ctx.balance(ctx.provider), 180_000n);
  });

  test("one bad entry reverts the whole batch with that entry's error (all or nothing)", async () => {
    const ctx = await setup(chain);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ctx.open()).id);
    await chain.increaseTime(1000);
    const batch = await entries(ctx, ids, 100n, 100_000n);
    batch[1].cumulativeAmount = 99_999n; // the signature no longer matches
    await expectRevert(ctx.escrow.connect(ctx.provider).claimBatch(batch), ctx.escrow, "BadSignature", [ids[1]]);
    for (const id of ids) assert.equal((await ctx.escrow.rental(id)).claimed, 0n);
    assert.equal(await ctx.balance(ctx.provider), 0n);
    assert.equal(await ctx.escrow.feesAccrued(), 0n);
  });

  test("the same voucher twice in a batch reverts AmountNotIncreasing", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    await chain.increaseTime(1000);
    const batch = await entries(ctx, [id, id], 100n, 100_000n);
    await expectRevert(ctx.escrow.connect(ctx.provider).claimBatch(batch), ctx.escrow, "AmountNotIncreasing", [id, 100_000n, 100_000n]);
  });

  test("an entry of another provider's rental reverts NotProvider", async () => {
    const ctx = await setup(chain);
    const mine = (await ctx.open()).id;
    const theirs = (await ctx.open({ provider: ctx.stranger.address })).id;
    await chain.increaseTime(1000);
    const batch = await entries(ctx, [mine, theirs], 100n, 100_000n);
    await expectRevert(ctx.escrow.connect(ctx.provider).claimBatch(batch), ctx.escrow, "NotProvider", [theirs, ctx.provider.address]);
  });

  test("an empty batch reverts EmptyBatch", async () => {
    const ctx = await setup(chain);
    await expectRevert(ctx.escrow.connect(ctx.provider).claimBatch([]), ctx.escrow, "EmptyBatch", []);
  });
});

describe("requestClose and reclaim", () => {
  test("requestClose shortens the deadline to now + settle window and never lengthens it", async () => {
    const ctx = await setup(chain);
    const { id, openedAt, deadline } = await ctx.open();
    await chain.setTime(openedAt + 100n);
    const receipt = await (await ctx.escrow.connect(ctx.renter).requestClose(id)).wait();
    const shortened = openedAt + 100n + SETTLE;
    assert.ok(shortened < deadline);
    assert.equal((await ctx.escrow.rental(id)).deadline, shortened);
    assert.deepEqual(eventsOf(ctx.escrow, receipt), [{ name: "CloseRequested", args: { rentalId: id, deadline: shortened } }]);
    // asking again later keeps the earlier deadline
    await chain.setTime(openedAt + 200n);
    await (await ctx.escrow.connect(ctx.renter).requestClose(id)).wait();
    assert.equal((await ctx.escrow.rental(id)).deadline, shortened);
  });

  test("after the maximum duration requestClose keeps the original (earlier) deadline", async () => {
    const ctx = await setup(chain);
    const { id, openedAt, deadline } = await ctx.open({ duration: 60n });
    await chain.setTime(openedAt + 90n);
    await (await ctx.escrow.connect(ctx.renter).requestClose(id)).wait();
    assert.equal((await ctx.escrow.rental(id)).deadline, deadline);
  });

  test("requestClose by anyone but the renter reverts NotRenter; unknown or closed rentals revert", async () => {
    const ctx = await setup(chain);
    const { id } = await ctx.open();
    for (const who of [ctx.provider, ctx.stranger]) {
      await expectRevert(ctx.escrow.connect(who).requestClose(id), ctx.escrow, "NotRenter", [id, who.address]);
    }
    await expectRevert(ctx.escrow.connect(ctx.renter).requestClose(ZeroHash), ctx.escrow, "UnknownRental", [ZeroHash]);
    await chain.increaseTime(10);
    await ctx.claim(id, 10n, 10_000n, true);
    await expectRevert(ctx.escrow.connect(ctx.renter).requestClose(id), ctx.escrow, "RentalClosedAlready", [id]);
  });

  test("the provider's final claim inside the shortened window still works; after it, PastDeadline", async () => {
    const ctx = await setup(chain);
    const { id, openedAt } = await ctx.open();
    await chain.setTime(openedAt + 100n);
    await (await ctx.escrow.connect(ctx.renter).requestClose(id)).wait();
    const deadline = openedAt + 100n + SETTLE;
    await chain.setTime(deadline);
    await ctx.claim(id, 100n, 100_000n, false);
    await chain.setTime(deadline + 1n);
    await expectRevert(ctx.claim(id, 100n, 100_000n, true), ctx.escrow, "PastDeadline", [id, deadline]);
  });

  test("reclaim at the deadline reverts BeforeDeadline; one second later it credits deposit - claimed", async () => {
    const ctx = await setup(chain);
    const { escrow, renter } = ctx;
    const { id, openedAt } = await ctx.open();
    await chain.setTime(openedAt + 100n);
    await ctx.claim(id, 100n, 100_000n);
    await (await escrow.connect(renter).requestClose(id)).wait();
    const deadline = (await escrow.rental(id)).deadline;
    await expectRevert(escrow.connect(renter).reclaim(id), escrow, "BeforeDeadline", [id, deadline]);
    await chain.setTime(deadline);
    await expectRevert(escrow.connect(renter).reclaim(id), escrow, "BeforeDeadline", [id, deadline]);
    await chain.setTime(deadline + 1n);
    const receipt = await (await escrow.connect(renter).reclaim(id)).wait();
    const refund = 100n * USD - 100_000n;
    assert.equal(await escrow.withdrawable(renter.address), refund);
    assert.equal((await escrow.rental(id)).closed, true);
    assert.deepEqual(eventsOf(escrow, receipt), [
      { name: "Reclaimed", args: { rentalId: id, refund } },
      { name: "RentalClosed", args: { rentalId: id, providerTotal: 100_000n, refund } },
    ]);
    await expectRevert(escrow.connect(renter).reclaim(id), escrow, "RentalClosedAlready", [id]);
    await expectRevert(ctx.claim(id, 100n, 100_000n, true), escrow, "RentalClosedAlready", [id]);
  });

  test("reclaim by anyone but the renter reverts NotRenter; an unknown rental UnknownRental", async () => {
    const ctx = await setup(chain);
    const { id, deadline } = await ctx.open({ duration: 10n });
    await chain.setTime(deadline + 1n);
    for (const who of [ctx.provider, ctx.stranger]) {
      await expectRevert(ctx.escrow.connect(who).reclaim(id), ctx.escrow, "NotRenter", [id, who.address]);
    }
    await expectRevert(ctx.escrow.connect(ctx.renter).reclaim(ZeroHash), ctx.escrow, "UnknownRental", [ZeroHash]);
  });
});

describe("withdraw", () => {
  test("pays the whole credited balance once, emits Withdrawn; then NothingToWithdraw", async () => {
    const ctx = await setup(chain);
    const { escrow, renter } = ctx;
    const a = await ctx.open();
    const b = await ctx.open();
    await chain.increaseTime(100);
    await ctx.claim(a.id, 10n, 10_000n, true);
    await ctx.claim(b.id, 20n, 20_000n, true);
    const credited = 2n * 100n * USD - 30_000n;
    assert.equal(await escrow.withdrawable(renter.address), credited);
    const before = await ctx.balance(renter);
    const receipt = await (await escrow.connect(renter).withdraw()).wait();
    assert.equal(await ctx.balance(renter), before + credited);
    assert.equal(await escrow.withdrawable(renter.address), 0n);
    assert.deepEqual(eventsOf(escrow, receipt), [{ name: "Withdrawn", args: { account: renter.address, amount: credited } }]);
    await expectRevert(escrow.connect(renter).withdraw(), escrow, "NothingToWithdraw", [renter.address]);
    await expectRevert(escrow.connect(ctx.stranger).withdraw(), escrow, "NothingToWithdraw", [ctx.stranger.address]);
    // what is left in the escrow is exactly the platform's fees
    assert.equal(await ctx.balance(ctx.escrowAddress), await escrow.feesAccrued());
  });
});

describe("platform", () => {
  test("withdrawFees pays the accrued fees to `to`; only the platform; NothingToWithdraw when empty", async () => {
    const ctx = await setup(chain);
    const { escrow, platform, stranger } = ctx;
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    await expectRevert(escrow.connect(platform).withdrawFees(stranger.address), escrow, "NothingToWithdraw", [platform.address]);
    await ctx.claim(id, 50n, 50_000n);
    await expectRevert(escrow.connect(stranger).withdrawFees(stranger.address), escrow, "NotPlatform", [stranger.address]);
    await expectRevert(escrow.connect(platform).withdrawFees(ZeroAddress), escrow, "ZeroAddress", []);
    const receipt = await (await escrow.connect(platform).withdrawFees(stranger.address)).wait();
    assert.equal(await ctx.balance(stranger), 5_000n);
    assert.equal(await escrow.feesAccrued(), 0n);
    assert.deepEqual(eventsOf(escrow, receipt), [{ name: "FeesWithdrawn", args: { to: stranger.address, amount: 5_000n } }]);
  });

  test("setFeeBps: only the platform, at most 1500, emits FeeChanged", async () => {
    const ctx = await setup(chain);
    const { escrow, platform, provider } = ctx;
    await expectRevert(escrow.connect(provider).setFeeBps(10), escrow, "NotPlatform", [provider.address]);
    await expectRevert(escrow.connect(platform).setFeeBps(1501), escrow, "FeeTooHigh", [1501n]);
    const receipt = await (await escrow.connect(platform).setFeeBps(1500)).wait();
    assert.equal(await escrow.feeBps(), 1500n);
    assert.deepEqual(eventsOf(escrow, receipt), [{ name: "FeeChanged", args: { feeBps: 1500n } }]);
  });

  test("fee snapshot: a rental keeps the fee it was opened with after setFeeBps", async () => {
    const ctx = await setup(chain);
    const { escrow, platform } = ctx;
    const old = await ctx.open();
    await (await escrow.connect(platform).setFeeBps(500)).wait();
    const fresh = await ctx.open();
    assert.equal((await escrow.rental(old.id)).feeBps, FEE_BPS);
    assert.equal((await escrow.rental(fresh.id)).feeBps, 500n);
    await chain.increaseTime(200);
    const r1 = await ctx.claim(old.id, 100n, 100_000n);
    assert.equal(eventsOf(escrow, r1)[0].args.fee, 10_000n); // 10 %, not 5 %
    const r2 = await ctx.claim(fresh.id, 100n, 100_000n);
    assert.equal(eventsOf(escrow, r2)[0].args.fee, 5_000n);
    assert.equal(await escrow.feesAccrued(), 15_000n);
  });

  test("a zero fee pays the provider everything and accrues nothing", async () => {
    const ctx = await setup(chain, { feeBps: 0n });
    const { id } = await ctx.open();
    await chain.increaseTime(100);
    await ctx.claim(id, 50n, 50_000n);
    assert.equal(await ctx.balance(ctx.provider), 50_000n);
    assert.equal(await ctx.escrow.feesAccrued(), 0n);
  });
});

describe("rental view", () => {
  test("an unknown id reads as all zeros", async () => {
    const ctx = await setup(chain);
    const r = await ctx.escrow.rental(ZeroHash);
    assert.equal(r.renter, ZeroAddress);
    assert.equal(r.provider, ZeroAddress);
    assert.equal(r.deposit, 0n);
    assert.equal(r.closed, false);
  });
});
