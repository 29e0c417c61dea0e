"""The web face: the JSON API under /api/v1 and the pages, on the service layer."""
