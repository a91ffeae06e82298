"""The documentation pages, working offline: Swagger UI and ReDoc's files served from their installed
packages, and Agora's Swagger UI page (the document itself: ``app.core.openapi``)."""

from importlib.metadata import distribution
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template_string, send_from_directory, url_for

# (distribution, folder inside it) for each documentation page's static files.
ASSETS = {
    "swagger": ("flask-openapi3-swagger", "flask_openapi3_swagger/templates/swagger"),
    "redoc": ("flask-openapi3-redoc", "flask_openapi3_redoc/templates/redoc"),
}
# The files the pages load; anything else in those folders is not served.
SERVED = {
    "swagger": {"swagger-ui.css": "css", "swagger-ui-bundle.js": "js", "swagger-ui-standalone-preset.js": "js"},
    "redoc": {"redoc.standalone.js": "js"},
}

# Swagger UI's page and the two pages' files; flask-smorest serves /openapi.json and /redoc.
blp = Blueprint("docs", __name__)


def asset_folder(page: str) -> Path:
    """Where the installed package keeps ``page``'s files (found without importing the package)."""
    dist_name, folder = ASSETS[page]
    return Path(distribution(dist_name).locate_file(folder))


@blp.get("/docs/assets/<any(swagger, redoc):page>/<filename>")
def asset(page: str, filename: str):
    subfolder = SERVED[page].get(filename)
    if subfolder is None:
        abort(404)
    return send_from_directory(asset_folder(page) / subfolder, filename, max_age=86400)


# flask-smorest's page plus one Swagger UI plugin: Swagger UI draws a padlock even where an empty
# requirement makes auth optional (``[{}, {"bearerAuth": []}]``); the plugin draws those as ``[{}]``.
# Only the drawing changes: the document keeps the truth, and requests still carry the token.
SWAGGER_UI_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{{ title }}</title>
    <link href="{{ assets_url }}swagger-ui.css" rel="stylesheet" type="text/css">
  </head>
  <body>
    <div id="swagger-ui-container"></div>
    <script src="{{ assets_url }}swagger-ui-standalone-preset.js"></script>
    <script src="{{ assets_url }}swagger-ui-bundle.js"></script>
    <script>
      function OptionalAuthUnlocked() {
        function isEmpty(requirement) { return requirement.isEmpty(); }
        return {wrapComponents: {OperationSummary: function (Original, system) {
          return function (props) {
            var operation = props.operationProps;
            var security = operation && operation.get("security");
            if (security && security.size > 1 && security.some(isEmpty)) {
              var anonymous = security.filter(isEmpty).take(1);
              props = Object.assign({}, props, {operationProps: operation.set("security", anonymous)});
            }
            return system.React.createElement(Original, props);
          };
        }}};
      }
      var config = Object.assign({url: {{ spec_url | tojson }}, dom_id: "#swagger-ui-container"},
                                 {{ config | tojson }}, {plugins: [OptionalAuthUnlocked]});
      window.onload = function () { window.ui = SwaggerUIBundle(config); };
    </script>
  </body>
</html>
"""


@blp.get("/docs")
def swagger_ui():
    """Swagger UI on /openapi.json, configured by ``OPENAPI_SWAGGER_UI_CONFIG``."""
    config = current_app.config
    return render_template_string(SWAGGER_UI_TEMPLATE, title=config["API_TITLE"],
                                  spec_url=url_for("api-docs.openapi_json"),
                                  assets_url=config["SWAGGER_UI_ASSETS_URL"], config=config["OPENAPI_SWAGGER_UI_CONFIG"])
