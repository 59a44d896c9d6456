"""Property-based fuzzing of every reader and of the numeric options (issue 21)."""
