package io.gpuagent.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One {@code NVIDIA_REQUIRE_*} value of an image, read the way the NVIDIA Container Toolkit reads
 * it (libnvidia-container's {@code src/cli/dsl.c}, which the toolkit's hook runs for discrete GPUs;
 * the Go port in {@code internal/requirements/constraints} agrees on everything below but unknown
 * names). The format:
 * <pre>
 *   requirement := term (' '+ term)*          terms are alternatives: one must hold (OR)
 *   term        := factor (',' factor)*        factors must all hold (AND)
 *   factor      := name op value               no spaces inside
 *   name        := cuda | driver | arch | brand   (any case)
 *   op          := = | != | &lt; | &lt;= | &gt; | &gt;=
 * </pre>
 * e.g. {@code cuda>=12.4 brand=tesla,driver>=470,driver<471}: CUDA 12.4 or newer, or a Tesla on a
 * 470 driver (NVIDIA's images list the driver branches where their forward-compatibility libraries
 * let a newer CUDA run). {@code cuda}, {@code driver} and {@code arch} compare as versions
 * (dot-separated numbers, missing parts are zero: {@code 12.4 = 12.4.0}); {@code brand} compares
 * as a case-insensitive word and takes only {@code =} and {@code !=}. Empty terms and factors
 * (doubled separators) are skipped; an empty requirement requires nothing.
 *
 * <p>Stricter than the toolkit in one way: the whole string is checked when parsed, while
 * libnvidia-container stops at the first alternative that holds and so never notices a malformed
 * later one. A malformed requirement is a {@link ImageCudaException} with
 * {@link ImageCudaException#INVALID}: the agent cannot promise the image runs, and in {@code cdi}
 * mode nothing else would check it (see docs/sessions.md).
 */
public final class CudaRequirement {
    private static final Pattern VERSION = Pattern.compile("[0-9]{1,18}(\\.[0-9]{1,18})*");
    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9_.-]+");

    /** The comparison of one factor. */
    enum Op {
        EQ("="), NE("!="), LT("<"), LE("<="), GT(">"), GE(">=");

        final String text;

        Op(String text) {
            this.text = text;
        }

        static Optional<Op> of(String text) {
            for (Op o : values()) {
                if (o.text.equals(text)) {
                    return Optional.of(o);
                }
            }
            return Optional.empty();
        }

        boolean holds(int cmp) {
            return switch (this) {
                case EQ -> cmp == 0;
                case NE -> cmp != 0;
                case LT -> cmp < 0;
                case LE -> cmp <= 0;
                case GT -> cmp > 0;
                case GE -> cmp >= 0;
            };
        }
    }

    /** One {@code name op value}; {@code name} lower-cased. */
    record Factor(String name, Op op, String value) {
        @Override
        public String toString() {
            return name + op.text + value;
        }
    }

    /**
     * What a requirement is checked against, for one GPU. Null means unknown, and a factor on an
     * unknown property holds: libnvidia-container assumes the same when it has no device, and the
     * agent would rather run an image that then fails than refuse one that runs.
     *
     * @param cuda   the highest CUDA the driver supports, e.g. {@code 12.4}
     * @param driver the driver version, e.g. {@code 550.54.15}
     * @param arch   the GPU's compute capability, e.g. {@code 9.0}
     * @param brand  the GPU's brand as the images spell it, e.g. {@code tesla}, {@code geforcertx}
     */
    public record Facts(String cuda, String driver, String arch, String brand) {
    }

    private final String variable;
    private final String text;
    private final List<List<Factor>> terms;

    private CudaRequirement(String variable, String text, List<List<Factor>> terms) {
        this.variable = variable;
        this.text = text;
        this.terms = terms;
    }

    /**
     * Parses {@code text}, the value of the image's variable {@code variable} (named in errors).
     *
     * @throws ImageCudaException ({@link ImageCudaException#INVALID}) naming the variable and the
     *                            factor it cannot read
     */
    public static CudaRequirement parse(String variable, String text) throws ImageCudaException {
        List<List<Factor>> terms = new ArrayList<>();
        for (String term : text.split(" ", -1)) {
            List<Factor> factors = new ArrayList<>();
            for (String factor : term.split(",", -1)) {
                if (!factor.isEmpty()) {
                    factors.add(factor(variable, text, factor));
                }
            }
            if (!factors.isEmpty()) {
                terms.add(List.copyOf(factors));
            }
        }
        return new CudaRequirement(variable, text, List.copyOf(terms));
    }

    private static Factor factor(String variable, String text, String factor) throws ImageCudaException {
        int opStart = indexOfAny(factor, "<>=!");
        if (opStart <= 0) {
            throw invalid(variable, text, factor, "not NAME OP VALUE");
        }
        int opEnd = opStart;
        while (opEnd < factor.length() && "<>=!".indexOf(factor.charAt(opEnd)) >= 0) {
            opEnd++;
        }
        if (opEnd == factor.length()) {
            throw invalid(variable, text, factor, "not NAME OP VALUE");
        }
        String name = factor.substring(0, opStart).toLowerCase(Locale.ROOT);
        Optional<Op> op = Op.of(factor.substring(opStart, opEnd));
        String value = factor.substring(opEnd);
        if (op.isEmpty()) {
            throw invalid(variable, text, factor, "unknown operator " + factor.substring(opStart, opEnd));
        }
        switch (name) {
            case "cuda", "driver", "arch" -> {
                if (!VERSION.matcher(value).matches()) {
                    throw invalid(variable, text, factor, "\"" + value + "\" is not a version (numbers and dots)");
                }
            }
            case "brand" -> {
                if (op.get() != Op.EQ && op.get() != Op.NE) {
                    throw invalid(variable, text, factor, "a brand takes only = or !=");
                }
                if (!WORD.matcher(value).matches()) {
                    throw invalid(variable, text, factor, "\"" + value + "\" is not a brand");
                }
            }
            default -> throw invalid(variable, text, factor, "unknown property " + name
                    + " (cuda, driver, arch or brand)");
        }
        return new Factor(name, op.get(), value);
    }

    private static ImageCudaException invalid(String variable, String text, String factor, String why) {
        return new ImageCudaException(ImageCudaException.INVALID, "the image's " + variable + "=\"" + text
                + "\" cannot be read: \"" + factor + "\": " + why);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** Whether one alternative holds entirely; an empty requirement always holds. */
    public boolean satisfiedBy(Facts facts) {
        if (terms.isEmpty()) {
            return true;
        }
        for (List<Factor> term : terms) {
            if (term.stream().allMatch(f -> holds(f, facts))) {
                return true;
            }
        }
        return false;
    }

    private static boolean holds(Factor f, Facts facts) {
        String actual = switch (f.name()) {
            case "cuda" -> facts.cuda();
            case "driver" -> facts.driver();
            case "arch" -> facts.arch();
            default -> facts.brand();
        };
        if (actual == null) {
            return true;
        }
        if (f.name().equals("brand")) {
            return f.op().holds(actual.equalsIgnoreCase(f.value()) ? 0 : 1);
        }
        if (!VERSION.matcher(actual).matches()) {
            return true; // the host's own figure is unreadable: unknown, as above
        }
        return f.op().holds(compareVersions(actual, f.value()));
    }

    /** Dot-separated numbers compared part by part, missing parts zero: {@code 12.4 = 12.4.0 < 12.10}. */
    static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? Long.parseLong(x[i]) : 0;
            long q = i < y.length ? Long.parseLong(y[i]) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        return 0;
    }

    /**
     * The CUDA version the image asks for, for messages: the bound of the first {@code cuda>=} or
     * {@code cuda>} factor (the first alternative of NVIDIA's images), if any.
     */
    public Optional<String> cudaNeeded() {
        for (List<Factor> term : terms) {
            for (Factor f : term) {
                if (f.name().equals("cuda") && (f.op() == Op.GE || f.op() == Op.GT || f.op() == Op.EQ)) {
                    return Optional.of(f.value());
                }
            }
        }
        return Optional.empty();
    }

    /** The variable it came from, e.g. {@code NVIDIA_REQUIRE_CUDA}. */
    public String variable() {
        return variable;
    }

    /** The value as the image wrote it. */
    public String text() {
        return text;
    }

    /** The alternatives, each a list of factors (for tests and messages). */
    List<List<Factor>> terms() {
        return terms;
    }

    @Override
    public String toString() {
        return variable + "=" + text;
    }
}
