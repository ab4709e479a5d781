package io.gpuagent.container.docker;

import io.gpuagent.container.ContainerSpec.ContainerFile;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The files of a {@link io.gpuagent.container.ContainerSpec}, as the in-memory tar that Docker's
 * {@code PUT /containers/{id}/archive} extracts at {@code /}.
 *
 * <p>Format: POSIX ustar (POSIX.1-1988). Per file a 512-byte header, then the content padded with
 * zeros to a multiple of 512; the archive ends with two zero blocks. Header fields used (offset,
 * length): name (0, 100), mode (100, 8), uid (108, 8) and gid (116, 8) both 0, size (124, 12),
 * mtime (136, 12) 0, checksum (148, 8), type (156, 1) {@code '0'}, magic (257, 6) {@code "ustar\0"},
 * version (263, 2) {@code "00"}, uname/gname (265/297, 32) {@code root}, prefix (345, 155). Numbers
 * are octal ASCII, NUL-terminated. The checksum is the byte sum of the header with the checksum
 * field read as eight spaces. Paths longer than 100 bytes are split at a {@code /} into prefix and
 * name (at most 255 bytes in all). Parent directories are not listed: Docker creates missing ones
 * (root, 0755).
 */
final class TarArchive {
    private static final int BLOCK = 512;

    private TarArchive() {
    }

    static byte[] of(List<ContainerFile> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ContainerFile f : files) {
            String name = entryName(f.path());
            if (f.mode() < 0 || f.mode() > 07777) {
                throw new IllegalArgumentException("file mode of " + f.path() + " out of range: " + Integer.toOctalString(f.mode()));
            }
            byte[] content = f.content();
            out.writeBytes(header(name, f.mode(), content.length));
            out.writeBytes(content);
            out.writeBytes(new byte[padding(content.length)]);
        }
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    /** {@code /root/.ssh/authorized_keys} -> {@code root/.ssh/authorized_keys}; rejects anything that could escape. */
    static String entryName(String path) {
        if (path == null || !path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("container file path must be absolute and name a file: " + path);
        }
        String rel = path.substring(1);
        for (String part : rel.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("container file path must be normalized: " + path);
            }
        }
        if (rel.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("container file path contains NUL: " + path);
        }
        return rel;
    }

    private static byte[] header(String name, int mode, long size) {
        byte[] h = new byte[BLOCK];
        byte[] full = name.getBytes(StandardCharsets.UTF_8);
        if (full.length <= 100) {
            put(h, 0, 100, full);
        } else {
            int split = splitPoint(name, full.length);
            put(h, 0, 100, name.substring(split + 1).getBytes(StandardCharsets.UTF_8));
            put(h, 345, 155, name.substring(0, split).getBytes(StandardCharsets.UTF_8));
        }
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, 0);
        h[156] = '0';
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] ck = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ck, 0, h, 148, 8);
        return h;
    }

    private static int splitPoint(String name, int byteLength) {
        for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
            int prefixLen = name.substring(0, i).getBytes(StandardCharsets.UTF_8).length;
            int nameLen = byteLength - prefixLen - 1;
            if (prefixLen <= 155 && nameLen <= 100) {
                return i;
            }
        }
        throw new IllegalArgumentException("container file path too long for a tar header (255 bytes): /" + name);
    }

    private static void put(byte[] h, int off, int len, byte[] value) {
        if (value.length > len) {
            throw new IllegalArgumentException("tar field overflow");
        }
        System.arraycopy(value, 0, h, off, value.length);
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) {
            throw new IllegalArgumentException("value too large for a tar header: " + value);
        }
        String padded = "0".repeat(len - 1 - s.length()) + s;
        put(h, off, len, (padded + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    private static int padding(long size) {
        int rest = (int) (size % BLOCK);
        return rest == 0 ? 0 : BLOCK - rest;
    }
}
