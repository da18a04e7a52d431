"""The watch-floor console: the operators' web interface, served by each node."""
