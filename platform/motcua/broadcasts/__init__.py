"""Topics, areas, citizens' subscriptions, and the province's broadcasts to them."""
