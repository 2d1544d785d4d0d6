"""slack adapter (see bot/adapters/__init__.py). Import the SDK lazily, inside functions."""
