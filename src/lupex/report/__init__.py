"""Pictures and reports made from lupex products."""
