"""The dossier report, end to end over HTTP."""
