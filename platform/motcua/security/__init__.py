"""The security baseline every response shares: headers and rate limits."""
