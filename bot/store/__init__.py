"""Question and feedback store (SQLite by default, PostgreSQL optional)."""
