"""The catalogue: agencies, procedures, search and Vietnamese folding."""
