"""``flask enrichment resume``: queue again the profile checks that were never finished."""

import click
from flask.cli import AppGroup

from app.profile_checks.services import resume_profile_checks

enrichment = AppGroup("enrichment", help="Email verification and enrichment.")


@enrichment.command("resume")
def resume() -> None:
    """Re-queue every user whose checks are still pending (or failed on a spent quota)."""
    count = resume_profile_checks()
    click.echo(f"queued checks for {count} user{'s' if count != 1 else ''}")
