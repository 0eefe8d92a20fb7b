"""IFCore platform service."""
