"""History between the tools and {fetchers, store}: what windvane has stored, read as it was known."""
