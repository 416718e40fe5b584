"""Notices to citizens and the channels that carry them."""
