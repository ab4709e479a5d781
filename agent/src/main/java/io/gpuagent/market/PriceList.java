package io.gpuagent.market;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The owner's prices ({@code offer.prices}: {@code "model=price"}): the first entry whose model
 * is contained in a GPU's name, ignoring case, gives its price per second in token base units.
 */
public final class PriceList {
    private record Entry(String model, BigInteger price) {
    }

    private final List<Entry> entries;

    public PriceList(List<String> spec) {
        List<Entry> e = new ArrayList<>();
        for (String s : spec) {
            int eq = s.lastIndexOf('=');
            e.add(new Entry(s.substring(0, eq).trim().toLowerCase(Locale.ROOT), new BigInteger(s.substring(eq + 1).trim())));
        }
        this.entries = List.copyOf(e);
    }

    /** The price per second of a GPU named {@code gpuName}, or empty when the owner priced no such model. */
    public Optional<BigInteger> priceOf(String gpuName) {
        String n = gpuName.toLowerCase(Locale.ROOT);
        return entries.stream().filter(e -> n.contains(e.model())).map(Entry::price).findFirst();
    }
}
