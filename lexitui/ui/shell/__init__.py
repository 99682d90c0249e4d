"""What every area shares: the area screen base, the mode table, the help and not-built screens."""
