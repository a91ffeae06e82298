"""The WSGI entry point: ``gunicorn wsgi:app`` (and what ``flask`` finds by default)."""

from dotenv import load_dotenv

from app import create_app

load_dotenv()
app = create_app()
