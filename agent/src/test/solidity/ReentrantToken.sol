// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken: a malicious ERC-20 that calls back during a transfer. TEST ONLY.
/// @notice Once armed, its next transfer (any transfer, transferFrom included) makes one call to
/// `target` with `data` after moving the balances, and records whether it succeeded and what it
/// returned, so a test can assert that the escrow refused the re-entry and why.
contract ReentrantToken is ERC20("Reentrant", "RE") {
    address public target;
    bytes public data;
    bool public armed;
    bool public attempted;
    bool public succeeded;
    bytes public returned;

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
        armed = true;
        attempted = false;
        succeeded = false;
        delete returned;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed) {
            armed = false;
            attempted = true;
            (succeeded, returned) = target.call(data);
        }
    }
}
