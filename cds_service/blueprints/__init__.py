"""Blueprints, one per surface: discovery, hooks, feedback, ops."""
