"""Database driver errors: a dropped connection is 503 service_unavailable, anything else a bug (500)."""

from sqlalchemy.exc import IntegrityError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def raising(app, error):
    def view():
        raise error

    app.add_url_rule("/boom", "boom", view)
    return app.test_client().get("/boom")


def test_an_invalidated_connection_is_503_service_unavailable(app):
    response = raising(app, InterfaceError("SELECT 1", {}, Exception("connection already closed"),
                                           connection_invalidated=True))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_an_exhausted_connection_pool_is_503_service_unavailable(app):
    response = raising(app, PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))
    assert (response.status_code, response.json["error"]["code"]) == (503, "service_unavailable")


def test_other_driver_errors_are_500_internal_error_in_json(app):
    response = raising(app, IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert (response.status_code, response.json["error"]["code"]) == (500, "internal_error")
