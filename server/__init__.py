"""The top layer: MCP wiring (app, tool_handlers), transports, the CLI (cli, commands/), settings, the status
views, and `windvane backtest` (backtest/). `runtime.open_deps` builds the tools' Deps in one place. Imports
stay lazy: `windvane --help` loads no SDK."""
