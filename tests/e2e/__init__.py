"""End-to-end checks with real third-party clients (MCP inspector, conformance suite), run by .ci/run, not pytest."""
