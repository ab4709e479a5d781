package io.gpuagent.container.docker;

/**
 * An image name split as the pull API wants it: {@code fromImage} and {@code tag}. An empty tag
 * would make the engine pull every tag of the repository, so a name without one means
 * {@code latest}; a digest ({@code name@sha256:...}) goes in the tag parameter, which the engine
 * accepts.
 */
record ImageReference(String repository, String tag) {

    static ImageReference parse(String image) {
        if (image == null || image.isBlank()) {
            throw new IllegalArgumentException("image name missing");
        }
        int at = image.indexOf('@');
        if (at >= 0) {
            return new ImageReference(image.substring(0, at), image.substring(at + 1));
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (colon > slash) {
            return new ImageReference(image.substring(0, colon), image.substring(colon + 1));
        }
        return new ImageReference(image, "latest");
    }
}
