"""Manager reports: the pictures (server-drawn SVG) and the exports (safe CSV) they share."""
