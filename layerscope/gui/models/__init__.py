"""Qt item models adapting the core's objects (one module per view)."""
