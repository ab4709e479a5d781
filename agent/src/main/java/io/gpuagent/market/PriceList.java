package io.gpuagent.market;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The owner's prices. Whole GPUs ({@code offer.prices}: {@code "model=price"}): the first entry
 * whose model is contained in a GPU's name, ignoring case, gives its price per second in token base
 * units. MIG instances ({@code offer.mig_prices}: {@code "[model ]profile=price"}): the first entry
 * with the instance's profile whose model (when given) is in the GPU's name; with no entry, the
 * instance costs its share of its GPU's price, {@code ceil(price * slices / fullSlices)}, so an
 * owner who priced the card has priced its slices too.
 */
public final class PriceList {
    private record Entry(String model, BigInteger price) {
    }

    private record MigEntry(String model, String profile, BigInteger price) {
    }

    private final List<Entry> entries;
    private final List<MigEntry> migEntries;

    public PriceList(List<String> spec) {
        this(spec, List.of());
    }

    public PriceList(List<String> spec, List<String> migSpec) {
        List<Entry> e = new ArrayList<>();
        for (String s : spec) {
            int eq = s.lastIndexOf('=');
            e.add(new Entry(s.substring(0, eq).trim().toLowerCase(Locale.ROOT), new BigInteger(s.substring(eq + 1).trim())));
        }
        List<MigEntry> m = new ArrayList<>();
        for (String s : migSpec) {
            int eq = s.lastIndexOf('=');
            String key = s.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            int sp = key.lastIndexOf(' ');
            m.add(new MigEntry(sp < 0 ? "" : key.substring(0, sp).trim(), key.substring(sp + 1),
                    new BigInteger(s.substring(eq + 1).trim())));
        }
        this.entries = List.copyOf(e);
        this.migEntries = List.copyOf(m);
    }

    /** The price per second of a GPU named {@code gpuName}, or empty when the owner priced no such model. */
    public Optional<BigInteger> priceOf(String gpuName) {
        String n = gpuName.toLowerCase(Locale.ROOT);
        return entries.stream().filter(e -> n.contains(e.model())).map(Entry::price).findFirst();
    }

    /**
     * The price per second of a MIG instance of {@code profile} ({@code 1g.10gb}) with {@code slices}
     * compute slices on a GPU named {@code gpuName} whose whole has {@code fullSlices}; empty when
     * neither a MIG price nor the GPU's price applies.
     */
    public Optional<BigInteger> priceOfMig(String gpuName, String profile, int slices, int fullSlices) {
        String n = gpuName.toLowerCase(Locale.ROOT);
        String p = profile.toLowerCase(Locale.ROOT);
        Optional<BigInteger> explicit = migEntries.stream()
                .filter(e -> e.profile().equals(p) && n.contains(e.model())).map(MigEntry::price).findFirst();
        if (explicit.isPresent()) {
            return explicit;
        }
        if (slices <= 0 || fullSlices <= 0) {
            return Optional.empty();
        }
        BigInteger full = BigInteger.valueOf(fullSlices);
        return priceOf(gpuName).map(g -> g.multiply(BigInteger.valueOf(slices)).add(full.subtract(BigInteger.ONE)).divide(full));
    }
}
