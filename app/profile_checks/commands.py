"""``flask profile-checks resume``: queue again the email verifications and enrichments never finished.

``flask enrichment resume`` is the same command under SPEC 4's name for it.
"""

import click
from flask.cli import AppGroup

from app.profile_checks.services import resume_profile_checks


def resume() -> None:
    """Re-queue every user whose checks are still pending (or failed on a spent quota)."""
    count = resume_profile_checks()
    click.echo(f"queued checks for {count} user{'s' if count != 1 else ''}")


profile_checks = AppGroup("profile-checks", help="Email verification and enrichment of accounts.")
profile_checks.command("resume")(resume)
enrichment = AppGroup("enrichment", help="`profile-checks` under SPEC 4's name: `flask enrichment resume`.")
enrichment.command("resume")(resume)
