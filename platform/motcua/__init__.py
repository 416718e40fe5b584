"""Một Cửa: the one-stop public-service platform for Vietnamese provinces."""
