"""State a fleet of windvane replicas shares, behind small protocols with in-process defaults.

    tier.py       the protocols (a cache tier, a fleet lock, rate budgets, circuit state) and the in-process defaults
    flight.py     fleet-wide single-flight: one replica fetches a missing key, the others wait for its answer
    budgets.py    the published rate limits per upstream and the request weights they count
    codec.py      parsed values <-> JSON, through a registry of windvane's own types (never pickle, never eval)
    redis_link.py one Redis connection that degrades to local state when Redis is gone and comes back on its own
    redis_tier.py the Redis implementations (imported, with redis-py and limits, only when WINDVANE_REDIS_URL is set)

Without WINDVANE_REDIS_URL every part is the in-process default and the HTTP layer behaves as a single process.
"""
