"""The node: configuration, TLS, links, and the service that joins core, store and network."""
