"""The API's routes, one router for each concern; ``create_app`` puts the bearer check on all
but the health check."""
