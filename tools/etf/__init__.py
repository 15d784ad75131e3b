"""get_etf_flows: US spot ETF daily net flows per fund, month to date, records, streak and price impact."""
