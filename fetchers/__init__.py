"""One module per upstream, plus the shared cached HTTP layer (`fetchers.http`). Fetchers only talk to upstreams.

Each fetcher follows three stages: our parameters -> the upstream's query (exact documented path and names);
the HTTP call through `Http`; the raw body -> validated typed rows. Parsers are pure functions, tested on
payloads in the upstream's exact format, and raise BadPayloadError on drift. Which venue answers which question,
and in which fallback order, is declared in tools/venues.py.
"""
