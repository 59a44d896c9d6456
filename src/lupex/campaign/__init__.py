"""Campaigns: many simulated missions and their statistics."""
