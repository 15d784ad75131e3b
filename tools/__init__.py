"""One subpackage per MCP tool, the history layer beneath them, and the shared kernel (deps, point in time, provenance).

Tool modules turn validated arguments into typed results by calling fetchers, and catch upstream errors per
signal: one failed upstream becomes `null` plus a warning, never a failed call.
"""
