// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken: "Test USD" (TUSD), a mintable ERC-20 with 6 decimals like USDC
/// @notice FOR TESTS AND THE LOCAL DEMO ONLY. Anyone may mint any amount to anyone: it has no value
/// and must never be used as the escrow token of a real deployment.
contract TestToken is ERC20("Test USD", "TUSD") {
    /// @notice 6, like USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`. Open to anyone: this is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
