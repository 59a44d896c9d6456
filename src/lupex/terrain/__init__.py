"""Lunar terrain: DEMs, readers, synthesis, derived layers."""
