"""Dossiers (hồ sơ): intake, codes, working-day due dates, lifecycle, receipts, tracking,
ratings."""
