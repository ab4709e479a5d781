// An in-process ganache chain (chain id 1337, shanghai) behind ethers v6, plus the helpers the tests
// and gas.mjs share: deploying from the committed artifacts and signing vouchers (EIP-712).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ganache from "ganache";
import { BrowserProvider, ContractFactory, Wallet, Signature } from "ethers";
import { ARTIFACT_DIR } from "./compile.mjs";

export const CHAIN_ID = 1337n;

/**
 * Starts a fresh chain at `startTime` (seconds). Time stands still unless a test moves it
 * (miner.timestampIncrement = 0): every block, and every eth_call / eth_estimateGas (which ganache
 * runs at the latest block's timestamp), sees the time last set with {@link Chain#setTime}. So a
 * transaction ethers estimates first (and a revert comes back from that estimate, with its data)
 * runs at the very timestamp the test chose, and boundary tests (at the deadline, one second past
 * it) are exact.
 */
export async function startChain({ startTime = 1_700_000_000 } = {}) {
  const eip1193 = ganache.provider({
    chain: {
      chainId: Number(CHAIN_ID),
      hardfork: "shanghai",
      time: new Date(startTime * 1000),
    },
    wallet: { deterministic: true, totalAccounts: 10, defaultBalance: 1000 },
    // time stands still unless a test moves it (see the class comment)
    miner: { timestampIncrement: 0 },
    logging: { quiet: true },
  });
  const provider = new BrowserProvider(revertDataAsHex(eip1193), undefined, { cacheTimeout: -1 });
  const signers = await Promise.all([...Array(10).keys()].map((i) => provider.getSigner(i)));
  return new Chain(eip1193, provider, signers);
}

/**
 * ganache puts a failed eth_estimateGas' revert data in `error.data.result`, where ethers looks in
 * `error.data`; without this, ethers reports "missing revert data" and no custom error could be
 * asserted.
 */
function revertDataAsHex(eip1193) {
  return {
    async request(args) {
      try {
        return await eip1193.request(args);
      } catch (e) {
        if (e && e.data && typeof e.data === "object" && typeof e.data.result === "string") {
          e.data = e.data.result;
        }
        throw e;
      }
    },
  };
}

export class Chain {
  constructor(eip1193, provider, signers) {
    this.eip1193 = eip1193;
    this.provider = provider;
    this.signers = signers;
  }

  async stop() {
    this.provider.destroy();
    await this.eip1193.disconnect();
  }

  async latestTimestamp() {
    return BigInt((await this.provider.getBlock("latest")).timestamp);
  }

  /** Moves the clock to `ts` (>= the latest block's) by mining an empty block there. */
  async setTime(ts) {
    await this.provider.send("evm_mine", [{ timestamp: Number(ts) }]);
  }

  async increaseTime(seconds) {
    await this.setTime((await this.latestTimestamp()) + BigInt(seconds));
  }

  async snapshot() {
    return this.provider.send("evm_snapshot", []);
  }

  async revert(id) {
    return this.provider.send("evm_revert", [id]);
  }
}

export function loadArtifact(name) {
  return JSON.parse(readFileSync(join(ARTIFACT_DIR, `${name}.json`), "utf8"));
}

/** Deploys `artifact` ({abi, bytecode}) from `signer` and waits for it. */
export async function deploy(artifact, signer, ...args) {
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, signer);
  const contract = await factory.deploy(...args);
  await contract.waitForDeployment();
  return contract;
}

export const VOUCHER_TYPES = {
  Voucher: [
    { name: "rentalId", type: "bytes32" },
    { name: "cumulativeSeconds", type: "uint64" },
    { name: "cumulativeAmount", type: "uint256" },
  ],
};

/** The EIP-712 domain of `escrowAddress` on `chainId`. */
export function escrowDomain(escrowAddress, chainId = CHAIN_ID) {
  return { name: "GpuEscrow", version: "1", chainId, verifyingContract: escrowAddress };
}

/** Signs a voucher with an ethers Wallet (the renter's voucher key); returns the 65-byte signature. */
export async function signVoucher(wallet, escrowAddress, rentalId, cumulativeSeconds, cumulativeAmount, chainId) {
  return wallet.signTypedData(escrowDomain(escrowAddress, chainId), VOUCHER_TYPES, {
    rentalId,
    cumulativeSeconds,
    cumulativeAmount,
  });
}

/** Fixed voucher keys, so runs are reproducible. */
export function voucherWallet(i) {
  return new Wallet("0x" + (0x1000 + i).toString(16).padStart(64, "0"));
}

export { Signature };

/** The RentalOpened event's rentalId in `receipt`. */
export function openedRentalId(escrow, receipt) {
  for (const log of receipt.logs) {
    const parsed = escrow.interface.parseLog(log);
    if (parsed && parsed.name === "RentalOpened") return parsed.args.rentalId;
  }
  throw new Error("no RentalOpened in the receipt");
}

/** Opens a rental as `renter`; returns { id, receipt }. */
export async function openRental(escrow, renter, { provider, deposit, rate, duration, signer }) {
  const receipt = await (await escrow.connect(renter).open(provider, deposit, rate, duration, signer)).wait();
  return { id: openedRentalId(escrow, receipt), receipt };
}

/** The custom error a failed call carries, decoded with `contract`'s ABI: { name, args } or null. */
export function decodeRevert(contract, error) {
  const data = error?.data ?? error?.info?.error?.data;
  if (typeof data !== "string" || data.length < 10) return null;
  const parsed = contract.interface.parseError(data);
  return parsed ? { name: parsed.name, args: [...parsed.args] } : null;
}
