"""The console's routes, one router for each part of the watch floor's work."""
