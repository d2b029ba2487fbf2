"""The content pipeline: layer functions over pydantic contracts. No ORM, no requests, no sessions."""
