"""The HTTP and WebSocket API under ``/api/v1`` (FastAPI); see :func:`create_app`."""
