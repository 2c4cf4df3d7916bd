"""Shopfloor: one system for a custom-PC and 3D-print shop."""
