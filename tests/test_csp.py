"""Every page carries a Content-Security-Policy that allows no inline script."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", ["login", "home", "competency:version-list"])
def test_pages_forbid_inline_script(client, manager, model_version, url_name):
    client.force_login(manager)
    response = client.get(reverse(url_name))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
