"""Pytest fixtures that run the emulator on 127.0.0.1 (filled in by the client work)."""
