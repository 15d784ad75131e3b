"""History store: typed time series that outlive the process (SQLite by default)."""
