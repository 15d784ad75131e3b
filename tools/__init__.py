"""One module per MCP tool, plus shared helpers (`tools.common`) and the scoring module.

Tool modules turn validated arguments into typed results by calling fetchers, and catch upstream errors per
signal: one failed upstream becomes `null` plus a warning, never a failed call.
"""
