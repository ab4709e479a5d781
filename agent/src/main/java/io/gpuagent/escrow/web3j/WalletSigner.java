package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ChallengeSigner;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

/** Signs handshake challenges with the wallet key (EIP-191 personal_sign). */
public final class WalletSigner implements ChallengeSigner {
    private final Credentials credentials;
    private final String address;

    public WalletSigner(Credentials credentials) {
        this.credentials = credentials;
        this.address = Keys.toChecksumAddress(credentials.getAddress());
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public String sign(byte[] message) {
        return Signatures.signPersonal(message, credentials.getEcKeyPair());
    }

    Credentials credentials() {
        return credentials;
    }

    @Override
    public String toString() {
        return "WalletSigner[" + address + "]"; // never the key
    }
}
