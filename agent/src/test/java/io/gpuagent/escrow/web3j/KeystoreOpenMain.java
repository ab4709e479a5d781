package io.gpuagent.escrow.web3j;

import java.nio.file.Path;

/** Opens a keystore and prints its address (KeystoreUnitFlagsIT runs it with the unit's JVM flags). */
public final class KeystoreOpenMain {
    private KeystoreOpenMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("opened " + Keystore.load(Path.of(args[0]), args[1]).getAddress());
    }
}
