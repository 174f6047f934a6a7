"""SkyPact's Alembic environment (``env.py``) and revisions (``versions/``).

Run them through :func:`skypact.storage.engine.migrate` (``skypact db migrate``).
"""
