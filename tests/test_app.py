from sqlalchemy import text


def test_database_is_postgis(db_session):
    version = db_session.execute(text("SELECT postgis_version()")).scalar_one()
    assert version.startswith("3.")


def test_front_page_answers(client):
    assert client.get("/").status_code == 200
