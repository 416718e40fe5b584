"""Reports: what the province received and resolved, counted for viewers and the national portal."""
