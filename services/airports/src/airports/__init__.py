"""The airports service."""
