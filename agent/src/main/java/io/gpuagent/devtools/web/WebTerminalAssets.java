package io.gpuagent.devtools.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web terminal's static files: the page ({@code index.html}, {@code terminal.js},
 * {@code terminal.css}) and, under {@code vendor/}, xterm.js and its fit addon as npm ships them.
 * They come from the jar ({@value #RESOURCES}, where the build copies the npm packages:
 * scripts/web-terminal-assets.sh), or from a directory a marketplace points {@code --assets} at to
 * serve its own page. Nothing is fetched from elsewhere at run time.
 */
public final class WebTerminalAssets {
    static final String RESOURCES = "io/gpuagent/devtools/web/";
    /** The files without which there is no terminal: checked at start so a jar built without npm says so. */
    public static final String XTERM = "vendor/xterm.js";

    /** One file and its media type. */
    public record Asset(String contentType, byte[] bytes) {
    }

    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "png", "image/png",
            "svg", "image/svg+xml", "txt", "text/plain; charset=utf-8", "ico", "image/x-icon");

    private final Path dir;
    private final Map<String, Asset> cache = new ConcurrentHashMap<>();

    /** @param dir a directory with the same layout, or null for the jar's own files */
    public WebTerminalAssets(Path dir) {
        this.dir = dir;
    }

    /** Where the files come from, for the start-up line. */
    public String origin() {
        return dir == null ? "the jar" : dir.toString();
    }

    /** The file at a request path ({@code /} is {@code index.html}), or null: unknown, hidden, or outside. */
    public Asset find(String path) {
        String name = path.equals("/") ? "index.html" : path.substring(1);
        // one flat level plus vendor/: no "..", no dot files, nothing a path trick could reach
        if (!name.matches("(vendor/)?[A-Za-z0-9][A-Za-z0-9._-]*")) {
            return null;
        }
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        String type = TYPES.get(ext);
        if (type == null) {
            return null;
        }
        Asset cached = cache.get(name);
        if (cached != null) {
            return cached;
        }
        byte[] bytes = read(name);
        if (bytes == null) {
            return null;
        }
        Asset a = new Asset(type, bytes);
        if (dir == null) {
            cache.put(name, a); // the jar's files never change; a directory's may (a marketplace editing its page)
        }
        return a;
    }

    private byte[] read(String name) {
        try {
            if (dir != null) {
                Path p = dir.resolve(name);
                return Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
            }
            try (InputStream in = WebTerminalAssets.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
                return in == null ? null : in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the web terminal's " + name + " from " + origin(), e);
        }
    }
}
