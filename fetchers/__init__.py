"""One module per upstream, plus the shared cached HTTP layer (`fetchers.http`).

Each fetcher follows three stages: our parameters -> the upstream's query (exact documented path and names);
the HTTP call through `Http`; the raw body -> validated typed rows. Parsers are pure functions, tested on
payloads in the upstream's exact format, and raise BadPayloadError on drift.
"""
