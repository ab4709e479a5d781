// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title GpuEscrow: per-second GPU rentals paid from an ERC-20 deposit against renter-signed vouchers
/// @notice A renter opens a rental with a deposit; the provider claims from it with EIP-712 vouchers
/// (cumulative seconds and cumulative amount) signed by the rental's voucher signer; the platform
/// takes a fee in basis points snapshotted at open. Refunds are credited to a withdrawable balance
/// so that a renter who cannot receive tokens can never block the provider's close.
/// Lifecycle and attack analysis: docs/escrow.md.
/// @dev Supports plain ERC-20 tokens (USDC, WPOL). Fee-on-transfer and rebasing tokens are not
/// supported: the deposit is booked as the amount asked for, not the amount received.
contract GpuEscrow is EIP712("GpuEscrow", "1"), ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev keccak256("Voucher(bytes32 rentalId,uint64 cumulativeSeconds,uint256 cumulativeAmount)")
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(bytes32 rentalId,uint64 cumulativeSeconds,uint256 cumulativeAmount)");

    /// @notice The largest platform fee, in basis points (15 %).
    uint16 public constant MAX_FEE_BPS = 1500;

    uint256 private constant BPS = 10_000;

    /// @dev Storage layout, chosen for the claim path: a steady-state claim reads slots 0-3 and writes
    /// slot 2 only; the renter (slot 4) is read only on close, requestClose and reclaim.
    /// Amounts are uint128 (3.4e38 base units: 3.4e20 tokens even at 18 decimals) and checked with
    /// SafeCast at open; times are uint64 seconds.
    struct Rental {
        // slot 0
        address provider;
        uint64 openedAt;
        uint16 feeBps;
        bool closed;
        // slot 1
        address voucherSigner;
        // slot 2
        uint128 deposit;
        uint128 claimed;
        // slot 3
        uint128 maxRatePerSecond;
        uint64 deadline;
        uint64 maxDurationSeconds;
        // slot 4
        address renter;
    }

    /// @notice One entry of {claimBatch}; the same fields as {claim}'s parameters.
    struct Claim {
        bytes32 rentalId;
        uint64 cumulativeSeconds;
        uint256 cumulativeAmount;
        bytes signature;
        bool close;
    }

    IERC20 private immutable _token;
    address private immutable _platform;
    uint64 private immutable _settleWindow;
    uint16 private _feeBps;
    /// @notice Fees claimed and not yet withdrawn by the platform.
    uint256 public feesAccrued;
    /// @notice Rentals opened by each renter so far; the next rental id's counter.
    mapping(address renter => uint256) public nonces;
    /// @notice Refunds credited and not yet withdrawn.
    mapping(address account => uint256) public withdrawable;

    mapping(bytes32 rentalId => Rental) private _rentals;

    event RentalOpened(
        bytes32 indexed rentalId,
        address indexed renter,
        address indexed provider,
        uint256 deposit,
        uint256 maxRatePerSecond,
        uint64 maxDurationSeconds,
        address voucherSigner,
        uint16 feeBps,
        uint64 deadline
    );
    event Claimed(
        bytes32 indexed rentalId,
        address indexed provider,
        uint64 cumulativeSeconds,
        uint256 cumulativeAmount,
        uint256 paid,
        uint256 fee
    );
    event CloseRequested(bytes32 indexed rentalId, uint64 deadline);
    /// @notice `providerTotal` is the gross amount released from the deposit (provider's pay plus
    /// the platform's fee); `providerTotal + refund == deposit`.
    event RentalClosed(bytes32 indexed rentalId, uint256 providerTotal, uint256 refund);
    event Reclaimed(bytes32 indexed rentalId, uint256 refund);
    event Withdrawn(address indexed account, uint256 amount);
    event FeesWithdrawn(address indexed to, uint256 amount);
    event FeeChanged(uint16 feeBps);

    error FeeTooHigh(uint256 feeBps);
    error ZeroAddress();
    error ZeroDeposit();
    error ZeroDuration();
    error UnknownRental(bytes32 rentalId);
    error RentalClosedAlready(bytes32 rentalId);
    error NotProvider(bytes32 rentalId, address caller);
    error NotRenter(bytes32 rentalId, address caller);
    error NotPlatform(address caller);
    error PastDeadline(bytes32 rentalId, uint64 deadline);
    error BeforeDeadline(bytes32 rentalId, uint64 deadline);
    error BadSignature(bytes32 rentalId);
    /// @dev (rentalId, claimed so far, voucher's cumulativeAmount)
    error AmountNotIncreasing(bytes32 rentalId, uint256 claimed, uint256 cumulativeAmount);
    /// @dev (rentalId, voucher's cumulativeAmount, deposit)
    error OverDeposit(bytes32 rentalId, uint256 cumulativeAmount, uint256 deposit);
    /// @dev (rentalId, voucher's cumulativeAmount, maxRatePerSecond * cumulativeSeconds)
    error OverRate(bytes32 rentalId, uint256 cumulativeAmount, uint256 maxAmount);
    /// @dev (rentalId, voucher's cumulativeSeconds, seconds elapsed since open)
    error SecondsInFuture(bytes32 rentalId, uint64 cumulativeSeconds, uint64 elapsedSeconds);
    /// @dev (rentalId, voucher's cumulativeSeconds, maxDurationSeconds)
    error OverDuration(bytes32 rentalId, uint64 cumulativeSeconds, uint64 maxDurationSeconds);
    error NothingToWithdraw(address account);
    error EmptyBatch();

    /// @dev Parameter names are the agreed ABI's (docs/escrow.md); they shadow the getters of the
    /// same name on purpose, hence solc's shadowing warnings here, in setFeeBps and in rental.
    constructor(address token, address platform, uint16 feeBps, uint64 settleWindowSeconds) {
        if (token == address(0) || platform == address(0)) revert ZeroAddress();
        _checkFee(feeBps);
        _token = IERC20(token);
        _platform = platform;
        _feeBps = feeBps;
        _settleWindow = settleWindowSeconds;
    }

    // ------------------------------------------------------------------ renter

    /// @notice Opens a rental and pulls `deposit` tokens from the caller (approve first).
    /// @return rentalId keccak256(abi.encode(chainid, this, renter, renter's nonce)): derived on chain,
    /// so nobody can occupy an id before its renter does.
    function open(
        address provider,
        uint256 deposit,
        uint256 maxRatePerSecond,
        uint64 maxDurationSeconds,
        address voucherSigner
    ) external nonReentrant returns (bytes32 rentalId) {
        if (provider == address(0) || voucherSigner == address(0)) revert ZeroAddress();
        if (deposit == 0) revert ZeroDeposit();
        if (maxDurationSeconds == 0) revert ZeroDuration();

        rentalId = keccak256(abi.encode(block.chainid, address(this), msg.sender, nonces[msg.sender]++));
        uint64 openedAt = uint64(block.timestamp);
        uint64 deadline = SafeCast.toUint64(uint256(openedAt) + maxDurationSeconds + _settleWindow);
        uint16 fee = _feeBps;

        Rental storage r = _rentals[rentalId];
        r.provider = provider;
        r.openedAt = openedAt;
        r.feeBps = fee;
        r.voucherSigner = voucherSigner;
        r.deposit = SafeCast.toUint128(deposit);
        r.maxRatePerSecond = SafeCast.toUint128(maxRatePerSecond);
        r.deadline = deadline;
        r.maxDurationSeconds = maxDurationSeconds;
        r.renter = msg.sender;

        emit RentalOpened(
            rentalId, msg.sender, provider, deposit, maxRatePerSecond, maxDurationSeconds, voucherSigner, fee, deadline
        );
        _token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @notice Shortens the rental's deadline to `settleWindow` seconds from now (never lengthens it):
    /// the provider must make its final claim by then, after which the renter may {reclaim}.
    function requestClose(bytes32 rentalId) external {
        Rental storage r = _openRental(rentalId);
        if (r.renter != msg.sender) revert NotRenter(rentalId, msg.sender);
        uint64 deadline = r.deadline;
        uint64 requested = uint64(block.timestamp) + _settleWindow;
        if (requested < deadline) {
            deadline = requested;
            r.deadline = requested;
        }
        emit CloseRequested(rentalId, deadline);
    }

    /// @notice After the deadline, closes the rental and credits the unclaimed deposit to the renter's
    /// withdrawable balance.
    function reclaim(bytes32 rentalId) external nonReentrant {
        Rental storage r = _openRental(rentalId);
        if (r.renter != msg.sender) revert NotRenter(rentalId, msg.sender);
        uint64 deadline = r.deadline;
        if (block.timestamp <= deadline) revert BeforeDeadline(rentalId, deadline);
        r.closed = true;
        uint256 claimed = r.claimed;
        uint256 refund = r.deposit - claimed;
        if (refund != 0) withdrawable[msg.sender] += refund;
        emit Reclaimed(rentalId, refund);
        emit RentalClosed(rentalId, claimed, refund);
    }

    /// @notice Pays the caller's whole withdrawable balance.
    function withdraw() external nonReentrant {
        uint256 amount = withdrawable[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        withdrawable[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ provider

    /// @notice Claims a rental up to a voucher's cumulative amount; with `close` also ends the rental
    /// and credits the rest of the deposit to the renter's withdrawable balance.
    function claim(
        bytes32 rentalId,
        uint64 cumulativeSeconds,
        uint256 cumulativeAmount,
        bytes calldata signature,
        bool close
    ) external nonReentrant {
        (uint256 paid, uint256 fee) = _claim(rentalId, cumulativeSeconds, cumulativeAmount, signature, close);
        if (fee != 0) feesAccrued += fee;
        if (paid != 0) _token.safeTransfer(msg.sender, paid);
    }

    /// @notice {claim} for many rentals of the caller in one transaction, paid with one transfer.
    /// All or nothing: one bad entry reverts the whole batch (docs/escrow.md says why).
    function claimBatch(Claim[] calldata claims) external nonReentrant {
        uint256 n = claims.length;
        if (n == 0) revert EmptyBatch();
        uint256 paidTotal;
        uint256 feeTotal;
        for (uint256 i; i < n; ++i) {
            Claim calldata c = claims[i];
            (uint256 paid, uint256 fee) =
                _claim(c.rentalId, c.cumulativeSeconds, c.cumulativeAmount, c.signature, c.close);
            paidTotal += paid;
            feeTotal += fee;
        }
        if (feeTotal != 0) feesAccrued += feeTotal;
        if (paidTotal != 0) _token.safeTransfer(msg.sender, paidTotal);
    }

    // ------------------------------------------------------------------ platform

    /// @notice Pays all accrued fees to `to`.
    function withdrawFees(address to) external nonReentrant {
        if (msg.sender != _platform) revert NotPlatform(msg.sender);
        if (to == address(0)) revert ZeroAddress();
        uint256 amount = feesAccrued;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        feesAccrued = 0;
        emit FeesWithdrawn(to, amount);
        _token.safeTransfer(to, amount);
    }

    /// @notice Sets the fee for rentals opened from now on; open rentals keep their snapshot.
    function setFeeBps(uint16 feeBps) external {
        if (msg.sender != _platform) revert NotPlatform(msg.sender);
        _checkFee(feeBps);
        _feeBps = feeBps;
        emit FeeChanged(feeBps);
    }

    // ------------------------------------------------------------------ views

    /// @notice The escrowed ERC-20 token.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice Receives the fees and is the only account that may change the fee.
    function platform() external view returns (address) {
        return _platform;
    }

    /// @notice The fee in basis points given to rentals opened from now on.
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @notice Seconds the provider has after the rental's maximum duration (or after the renter's
    /// close request) to make its last claim.
    function settleWindow() external view returns (uint64) {
        return _settleWindow;
    }

    /// @notice A rental's state; all zero (renter == address(0)) for an unknown id.
    function rental(bytes32 rentalId)
        external
        view
        returns (
            address renter,
            address provider,
            address voucherSigner,
            uint256 deposit,
            uint256 claimed,
            uint256 maxRatePerSecond,
            uint64 openedAt,
            uint64 deadline,
            uint64 maxDurationSeconds,
            uint16 feeBps,
            bool closed
        )
    {
        Rental storage r = _rentals[rentalId];
        return (
            r.renter,
            r.provider,
            r.voucherSigner,
            r.deposit,
            r.claimed,
            r.maxRatePerSecond,
            r.openedAt,
            r.deadline,
            r.maxDurationSeconds,
            r.feeBps,
            r.closed
        );
    }

    /// @notice The EIP-712 domain separator vouchers are signed under (name "GpuEscrow", version "1",
    /// this chain's id, this contract's address).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The EIP-712 digest a voucher signer signs; for off-chain tools and tests.
    function voucherDigest(bytes32 rentalId, uint64 cumulativeSeconds, uint256 cumulativeAmount)
        external
        view
        returns (bytes32)
    {
        return _voucherDigest(rentalId, cumulativeSeconds, cumulativeAmount);
    }

    // ------------------------------------------------------------------ internals

    function _checkFee(uint16 bps) private pure {
        if (bps > MAX_FEE_BPS) revert FeeTooHigh(bps);
    }

    function _openRental(bytes32 rentalId) private view returns (Rental storage r) {
        r = _rentals[rentalId];
        if (r.provider == address(0)) revert UnknownRental(rentalId);
        if (r.closed) revert RentalClosedAlready(rentalId);
    }

    function _voucherDigest(bytes32 rentalId, uint64 cumulativeSeconds, uint256 cumulativeAmount)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, rentalId, cumulativeSeconds, cumulativeAmount)));
    }

    /// @dev Every rule of a claim but the signature, cheapest first; returns the amount claimed so far.
    function _checkVoucher(
        Rental storage r,
        bytes32 rentalId,
        uint64 cumulativeSeconds,
        uint256 cumulativeAmount,
        bool close
    ) private view returns (uint256 claimed) {
        address provider = r.provider;
        if (provider == address(0)) revert UnknownRental(rentalId);
        if (provider != msg.sender) revert NotProvider(rentalId, msg.sender);
        if (r.closed) revert RentalClosedAlready(rentalId);
        uint64 deadline = r.deadline;
        if (block.timestamp > deadline) revert PastDeadline(rentalId, deadline);

        claimed = r.claimed;
        if (cumulativeAmount < claimed || (cumulativeAmount == claimed && !close)) {
            revert AmountNotIncreasing(rentalId, claimed, cumulativeAmount);
        }
        uint256 deposit = r.deposit;
        if (cumulativeAmount > deposit) revert OverDeposit(rentalId, cumulativeAmount, deposit);
        uint64 maxDuration = r.maxDurationSeconds;
        if (cumulativeSeconds > maxDuration) revert OverDuration(rentalId, cumulativeSeconds, maxDuration);
        uint64 elapsed = uint64(block.timestamp) - r.openedAt;
        if (cumulativeSeconds > elapsed) revert SecondsInFuture(rentalId, cumulativeSeconds, elapsed);
        // uint128 * uint64 cannot overflow uint256
        uint256 maxAmount = uint256(r.maxRatePerSecond) * cumulativeSeconds;
        if (cumulativeAmount > maxAmount) revert OverRate(rentalId, cumulativeAmount, maxAmount);
    }

    /// @dev OpenZeppelin's ECDSA rejects high-s and non-27/28 v (malleated copies of a signature) and
    /// signatures that are not 65 bytes; any recover error or another signer is a BadSignature.
    function _checkSignature(
        address voucherSigner,
        bytes32 rentalId,
        uint64 cumulativeSeconds,
        uint256 cumulativeAmount,
        bytes calldata signature
    ) private view {
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(_voucherDigest(rentalId, cumulativeSeconds, cumulativeAmount), signature);
        if (err != ECDSA.RecoverError.NoError || signer != voucherSigner) revert BadSignature(rentalId);
    }

    /// @dev Checks one voucher and books it; returns the provider's pay and the fee, which the caller
    /// adds to feesAccrued and transfers (once per transaction).
    function _claim(
        bytes32 rentalId,
        uint64 cumulativeSeconds,
        uint256 cumulativeAmount,
        bytes calldata signature,
        bool close
    ) private returns (uint256 paid, uint256 fee) {
        Rental storage r = _rentals[rentalId];
        uint256 claimed = _checkVoucher(r, rentalId, cumulativeSeconds, cumulativeAmount, close);
        _checkSignature(r.voucherSigner, rentalId, cumulativeSeconds, cumulativeAmount, signature);

        // cumulativeAmount <= deposit < 2^128: the cast is exact
        r.claimed = uint128(cumulativeAmount);
        uint256 delta = cumulativeAmount - claimed;
        fee = delta * r.feeBps / BPS;
        paid = delta - fee;
        emit Claimed(rentalId, msg.sender, cumulativeSeconds, cumulativeAmount, paid, fee);

        if (close) {
            r.closed = true;
            uint256 refund = r.deposit - cumulativeAmount;
            if (refund != 0) withdrawable[r.renter] += refund;
            emit RentalClosed(rentalId, cumulativeAmount, refund);
        }
    }
}
