// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title Actor: a contract account (renter or provider) for the escrow's tests. TEST ONLY.
/// @notice Forwards any call, so a test can open, claim and withdraw as a contract, and a malicious
/// token can make it re-enter the escrow in the middle of a transfer. Reverts bubble up unchanged.
contract Actor {
    function exec(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
