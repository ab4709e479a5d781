// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BlocklistToken: an ERC-20 that refuses transfers to or from blocked accounts, as USDC's
/// blacklist does. TEST ONLY: a renter who cannot receive a refund.
contract BlocklistToken is ERC20("Blocklist USD", "BUSD") {
    error Blocked(address account);

    mapping(address => bool) public blocked;

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool value) external {
        blocked[account] = value;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert Blocked(from);
        if (blocked[to]) revert Blocked(to);
        super._update(from, to, value);
    }
}
