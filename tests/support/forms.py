"""What a browser does before sending a form: read the page it is on."""

import re

FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')


def form_key(client, path):
    """The one-time key of the form on the page at ``path`` (see campaign.once)."""
    return FORM_KEY.search(client.get(path).text).group(1)


def send_form(client, path, data):
    """POST ``data`` to ``path`` with the key of the form the page at ``path`` shows."""
    return client.post(path, data={**data, "form_key": form_key(client, path)})
