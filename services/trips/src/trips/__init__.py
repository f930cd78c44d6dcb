"""The trips service."""
