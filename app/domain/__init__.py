"""Atende's business rules: every door (form, mass action, API, portal) calls these."""
