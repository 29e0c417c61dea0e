"""Async orchestration of the domain against the ports; every face goes through here."""
