package io.gpuagent.config;

/**
 * A {@code host:port} listen or connect address from the configuration ({@code [::1]:9464} for
 * IPv6 literals).
 */
public record HostPort(String host, int port) {

    /** Parses {@code value}, naming {@code key} in the error. */
    public static HostPort parse(String key, String value) throws ConfigException {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new ConfigException(key, key + " = \"" + value + "\" is invalid: must be host:port, e.g. 127.0.0.1:9464");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new ConfigException(key, key + " = \"" + value + "\" is invalid: write IPv6 addresses in brackets, "
                    + "e.g. [::1]:9464");
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(key, key + " = \"" + value + "\" is invalid: the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(key, key + " = \"" + value + "\" is invalid: the port must be 1..65535 "
                    + "(or 0: any free port, logged at start)");
        }
        return new HostPort(host, port);
    }

    /**
     * The address a client on this machine dials to reach a server listening here: a wildcard
     * listen address ({@code 0.0.0.0}, {@code ::}) becomes the matching loopback address.
     */
    public HostPort dialable() {
        return host.equals("0.0.0.0") ? new HostPort("127.0.0.1", port) : host.equals("::") ? new HostPort("::1", port) : this;
    }

    /** As a socket address (the host resolved when it is a name). */
    public java.net.InetSocketAddress socketAddress() {
        return new java.net.InetSocketAddress(host, port);
    }

    /** True for 127.0.0.0/8, ::1 and localhost. */
    public boolean isLoopback() {
        return host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }
}
