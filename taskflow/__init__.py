"""TaskFlow: an async data layer (SQLModel) and a REST API for task management."""
