import pytest

pytestmark = pytest.mark.django_db


def test_probe_signup(client):
    r = client.get("/accounts/signup/")
    c = r.content.decode()
    print(c[c.index("<main"):c.index("</main>")])
    client.cookies["django_language"] = "en"
    r = client.post("/accounts/signup/", {"email": "a@b.dk", "password1": "xkcd-horse-battery-1", "password2": "xkcd-horse-battery-1"})
    c = r.content.decode()
    print(r.status_code, c[c.index("<main"):c.index("</main>")])
    print(r.headers)
