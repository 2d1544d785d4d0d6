"""Read-only cluster lookup and diagnosis (lightkube is imported lazily)."""
