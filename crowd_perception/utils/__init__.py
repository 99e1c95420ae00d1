"""Small shared helpers (results reporting, machine description)."""
