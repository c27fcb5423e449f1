"""Domain logic: the only code that writes state."""
