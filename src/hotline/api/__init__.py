"""The local operator API (HTTP + JSON) and its client."""
