"""Bad profile updates and missing users are a 4xx in the error shape, never a 500."""

from tests.errors import ME, assert_error, assert_field_error

# --- profile updates --------------------------------------------------------------------------

def test_profile_name_as_boolean_is_422_naming_name(client, headers):
    response = client.patch(ME, json={"name": True}, headers=headers)
    assert_field_error(response, "name")


def test_unknown_field_on_profile_update_is_422_unknown_field(client, headers):
    response = client.patch(ME, json={"name": "Ann", "x": 1}, headers=headers)
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


def test_profile_name_over_100_characters_is_422_naming_name(client, headers):
    response = client.patch(ME, json={"name": "n" * 101}, headers=headers)
    assert_field_error(response, "name")


# --- missing users ----------------------------------------------------------------------------

def test_missing_user_is_404_user_not_found(client):
    assert_error(client.get("/api/v1/users/12345"), 404, "user_not_found")
