"""assess_rebound_vs_reversal: the indicator tools' outputs scored by one declarative table (scoring.py)."""
