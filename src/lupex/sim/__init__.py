"""The mission simulation: a rover that drives, prospects, drills and survives on its own."""
