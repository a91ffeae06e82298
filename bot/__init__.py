"""The bot: drives the Agora API over HTTP by the liking rules of SPEC 8 (``flask run-bot``)."""
