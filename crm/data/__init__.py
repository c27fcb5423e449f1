"""Small data files the app ships, generated from their sources (see each generator)."""
