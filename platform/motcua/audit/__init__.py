"""Audit log: who did what, to which target, when and from where; append-only."""
