"""Discord adapter tests: discord.py driven end to end against a local fake Discord REST server."""
