"""The WSGI entry point: ``gunicorn wsgi:app`` (and what ``flask`` finds by default).

A configuration error ends the process with its one line (no traceback), whichever command imported this.
"""

from dotenv import load_dotenv

from app import create_app_or_exit

load_dotenv()
app = create_app_or_exit()
