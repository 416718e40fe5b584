"""API keys, guards and (later) sign-in and audit."""
