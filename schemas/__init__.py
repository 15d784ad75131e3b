"""Pydantic models for every tool's input and output, and the typed rows fetchers produce."""
