"""MCP wiring, transports, CLI and settings. Imports stay lazy: `windvane --help` loads no SDK."""
