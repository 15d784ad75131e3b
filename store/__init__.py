"""History store: typed time series that outlive the process (SQLite by default, PostgreSQL for a fleet)."""
