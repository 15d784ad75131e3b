"""get_leverage_state: liquidations, open interest, funding per interval and book depth near round levels."""
