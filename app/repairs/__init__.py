"""Repairs: a multi-shop repair desk (seed 001)."""
