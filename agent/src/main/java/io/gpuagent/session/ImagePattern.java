package io.gpuagent.session;

import java.util.regex.Pattern;

/**
 * An image glob from the owner's allow/deny lists: {@code *} matches within one path segment
 * (no {@code /}), {@code **} matches across segments; everything else is literal. Image references
 * are normalised first so that {@code pytorch/pytorch:2.4} and {@code docker.io/pytorch/pytorch:2.4}
 * are the same image.
 */
public final class ImagePattern {
    private final String glob;
    private final Pattern regex;

    public ImagePattern(String glob) {
        this.glob = glob;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    re.append(".*");
                    i++;
                } else {
                    re.append("[^/]*");
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        this.regex = Pattern.compile(re.toString());
    }

    /** True when the pattern matches the image as written or in its normalised form. */
    public boolean matches(String image) {
        return glob.equals("*") || regex.matcher(image).matches() || regex.matcher(normalise(image)).matches();
    }

    /** {@code ubuntu} -> {@code docker.io/library/ubuntu:latest}; {@code a/b:1} -> {@code docker.io/a/b:1}. */
    public static String normalise(String image) {
        String ref = image;
        int slash = ref.indexOf('/');
        String first = slash < 0 ? "" : ref.substring(0, slash);
        boolean hasRegistry = slash > 0 && (first.contains(".") || first.contains(":") || first.equals("localhost"));
        if (!hasRegistry) {
            ref = "docker.io/" + (slash < 0 ? "library/" : "") + ref;
        }
        int lastSlash = ref.lastIndexOf('/');
        if (!ref.substring(lastSlash + 1).contains(":") && !ref.contains("@")) {
            ref = ref + ":latest";
        }
        return ref;
    }

    @Override
    public String toString() {
        return glob;
    }
}
