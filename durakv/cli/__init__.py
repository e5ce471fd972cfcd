"""Command-line entry points: ``durakv-server`` (a node) and ``durakv`` (operator CLI)."""
