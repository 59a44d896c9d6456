"""Regolith temperature and ice stability."""
