"""The tools, one subpackage each, over a history layer and a small shared kernel.

    tools/<tool>/      premium, etf, reserves, leverage, macro, assess: each tool's module (`tool.py`, with its
                       input model and ToolSpec) and its helpers; assess/scoring.py is the declarative table.
    tools/history/     between the tools and {fetchers, store}: candle read-through, backfill, CSV import, the
                       at-or-before reader, the ETF day store.
    tools/registry.py  the one list of tools (ToolSpec): the server, collect, backfill and the assessment read it.
    kernel             deps (Deps, built by server.runtime), point_in_time, args, errors, provenance, venues
                       (every venue and fallback chain), numbers, streaks; the concurrency idiom (gather,
                       first_answer) is fetchers/concurrency.py, shared by both layers.

Where to add things: an upstream -> fetchers/<name>.py, and tools/venues.py if it is a venue of a known kind;
a tool -> tools/<name>/tool.py with its SPEC, listed in tools/registry.tool_specs(); a scoring signal -> a Signal
row in tools/assess/scoring.py (its inputs in ScoringInputs, filled by an adapter in tools/assess/adapters.py).

Tools turn validated arguments into typed results and catch upstream errors per figure: one failed upstream
becomes `null` plus a warning, never a failed call.
"""
