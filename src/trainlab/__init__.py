"""trainlab."""
