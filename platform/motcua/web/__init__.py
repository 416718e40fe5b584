"""The pages citizens and officers see: templates and static files."""
