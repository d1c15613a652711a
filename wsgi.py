"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line for the operator, not a traceback
    raise SystemExit(f"jifen: configuration error: {exc}") from None
