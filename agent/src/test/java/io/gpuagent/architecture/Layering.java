package io.gpuagent.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The layering of docs/architecture.md as data, and the check of a source tree against it. The
 * document holds two tables between HTML comment markers: the libraries (a name and the package
 * prefixes that are that library), and the rooms (each agent package, the agent packages it may
 * use, the libraries it may use). Everything else is refused: a reference to an agent package not
 * in the room's list, a library not in its list, a library in no table, a package with no room, a
 * room with no package. The JDK and SLF4J may be used everywhere.
 *
 * <p>References are read from the sources: import lines and fully qualified names in code
 * (comments and string literals are left out), so no bytecode library is needed.
 */
final class Layering {
    static final String BASE = "io.gpuagent";
    private static final List<String> EVERYWHERE = List.of("java.", "javax.", "org.slf4j.");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?([\\w.]+)(?:\\.\\*)?;");
    private static final Pattern AGENT_NAME = Pattern.compile("\\bio\\.gpuagent\\.([a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z]");
    private static final Pattern CELL_NAME = Pattern.compile("`([^`]+)`");

    /** One room: the packages ({@code BASE}-relative, e.g. {@code market.netty}) and libraries it may use. */
    record Room(String name, Set<String> uses, Set<String> libraries) {
    }

    private final Map<String, Room> rooms;
    /** Package prefix (with a trailing dot) -> library name. */
    private final Map<String, String> libraries;

    Layering(Map<String, Room> rooms, Map<String, String> libraries) {
        this.rooms = rooms;
        this.libraries = libraries;
    }

    Map<String, Room> rooms() {
        return rooms;
    }

    /** Reads both tables of the document. */
    static Layering fromDocument(Path markdown) throws IOException {
        String text = Files.readString(markdown);
        Map<String, String> libs = new LinkedHashMap<>();
        for (List<String> row : table(text, "libraries")) {
            List<String> name = names(row.get(0));
            if (name.size() != 1) {
                throw new IllegalArgumentException("a libraries row must name one library in backticks: " + row);
            }
            for (String prefix : names(row.get(1))) {
                libs.put(prefix + ".", name.get(0));
            }
        }
        Map<String, Room> rooms = new LinkedHashMap<>();
        for (List<String> row : table(text, "rooms")) {
            List<String> room = names(row.get(0));
            if (room.size() != 1) {
                throw new IllegalArgumentException("a rooms row must name one package in backticks: " + row);
            }
            Set<String> libNames = new LinkedHashSet<>(plain(row.get(3)));
            for (String l : libNames) {
                if (!libs.containsValue(l)) {
                    throw new IllegalArgumentException("room " + room.get(0) + " names library " + l
                            + ", which the libraries table does not list");
                }
            }
            rooms.put(room.get(0), new Room(room.get(0), new LinkedHashSet<>(names(row.get(2))), libNames));
        }
        return new Layering(rooms, libs);
    }

    /** The cells of the rows of the table between {@code <!-- name:begin -->} and {@code <!-- name:end -->}. */
    private static List<List<String>> table(String text, String name) {
        int begin = text.indexOf("<!-- " + name + ":begin -->");
        int end = text.indexOf("<!-- " + name + ":end -->");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("no table '" + name + "' between its markers");
        }
        List<List<String>> rows = new ArrayList<>();
        for (String line : text.substring(begin, end).split("\n")) {
            line = line.trim();
            if (!line.startsWith("|") || line.startsWith("|---") || line.startsWith("| ---")) {
                continue;
            }
            List<String> cells = Arrays.stream(line.substring(1, line.length() - 1).split("\\|", -1)).map(String::trim)
                    .toList();
            if (cells.get(0).startsWith("`")) {
                rows.add(cells);
            }
        }
        return rows;
    }

    private static List<String> names(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = CELL_NAME.matcher(cell);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** A cell of plain, comma-separated names; a dash means none. */
    private static List<String> plain(String cell) {
        return Arrays.stream(cell.split(",")).map(String::trim).filter(s -> !s.isEmpty() && !s.equals("—") && !s.equals("-"))
                .toList();
    }

    /** Every way the sources under {@code root} (a {@code src/main/java}) break the layering; empty when none. */
    List<String> violations(Path root) {
        List<String> out = new ArrayList<>();
        Set<String> packages = new TreeSet<>();
        for (Path f : javaFiles(root)) {
            String text = read(f);
            Matcher pm = PACKAGE.matcher(text);
            if (!pm.find() || !(pm.group(1) + ".").startsWith(BASE + ".")) {
                out.add(f + ": no package line under " + BASE);
                continue;
            }
            String pkg = pm.group(1).substring(BASE.length() + 1);
            packages.add(pkg);
            Room room = rooms.get(pkg);
            if (room == null) {
                out.add(f.getFileName() + ": package " + pkg + " has no room in docs/architecture.md");
                continue;
            }
            check(f.getFileName().toString(), room, text, out);
        }
        for (String r : rooms.keySet()) {
            if (!packages.contains(r)) {
                out.add("docs/architecture.md has a room " + r + " that no source file is in");
            }
        }
        return out;
    }

    private void check(String file, Room room, String text, List<String> out) {
        String code = withoutCommentsAndStrings(text);
        Set<String> seen = new LinkedHashSet<>();
        Matcher im = IMPORT.matcher(code);
        while (im.find()) {
            seen.add(im.group(1));
        }
        Matcher am = AGENT_NAME.matcher(code);
        while (am.find()) {
            seen.add(BASE + "." + am.group(1) + ".X");
        }
        for (String prefix : libraries.keySet()) {
            Matcher lm = Pattern.compile("\\b" + Pattern.quote(prefix) + "[a-zA-Z]").matcher(code);
            if (lm.find()) {
                seen.add(prefix + "x");
            }
        }
        Set<String> reported = new LinkedHashSet<>(); // one line per room or library used, naming its first reference
        for (String ref : seen) {
            if (ref.startsWith(BASE + ".")) {
                String target = agentPackage(ref);
                if (!target.equals(room.name()) && !room.uses().contains(target) && reported.add(target)) {
                    out.add(file + " (" + room.name() + ") uses " + target + ", which its room may not: " + ref);
                }
            } else if (EVERYWHERE.stream().noneMatch(ref::startsWith)) {
                String lib = library(ref);
                if (lib == null) {
                    out.add(file + " (" + room.name() + ") uses " + ref + ", a library in no table of docs/architecture.md");
                } else if (!room.libraries().contains(lib) && reported.add(lib)) {
                    out.add(file + " (" + room.name() + ") uses " + lib + " (" + ref + "), which its room may not");
                }
            }
        }
    }

    /** The agent package of a class or member reference: the part before the first capitalised segment. */
    private static String agentPackage(String ref) {
        List<String> parts = List.of(ref.substring(BASE.length() + 1).split("\\."));
        List<String> pkg = new ArrayList<>();
        for (String p : parts) {
            if (Character.isUpperCase(p.charAt(0))) {
                break;
            }
            pkg.add(p);
        }
        return String.join(".", pkg);
    }

    /** The library a reference belongs to: the longest prefix that matches, or null. */
    private String library(String ref) {
        String best = null;
        for (String prefix : libraries.keySet()) {
            if ((ref + ".").startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? null : libraries.get(best);
    }

    /**
     * The code of a source file with comments blanked and string, text-block and character
     * literals emptied (one pass, so a {@code //} inside a string is no comment and a quote inside
     * a comment no string).
     */
    static String withoutCommentsAndStrings(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (text.startsWith("//", i)) {
                int eol = text.indexOf('\n', i);
                i = eol < 0 ? n : eol;
            } else if (text.startsWith("/*", i)) {
                int close = text.indexOf("*/", i + 2);
                int end = close < 0 ? n : close + 2;
                out.append(' ').append(text.substring(i, end).replaceAll("[^\n]", "")); // keep the lines
                i = end;
            } else if (text.startsWith("\"\"\"", i)) {
                int close = text.indexOf("\"\"\"", i + 3);
                i = close < 0 ? n : close + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && text.charAt(j) != c && text.charAt(j) != '\n') {
                    j += text.charAt(j) == '\\' ? 2 : 1;
                }
                i = Math.min(n, j + 1);
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static List<Path> javaFiles(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
