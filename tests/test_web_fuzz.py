"""The reader's JSON API and feeds fuzzed from their OpenAPI document (schemathesis): no
answer is a server error, and every answer conforms to what the document says (status,
media type, schema, headers). One check stays off: that every value the document allows is
accepted. A page cursor or a date is a string the schema cannot fully describe (2021-02-31
matches any date pattern), and the API answers those with a documented 400."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from archiver.web import ReaderConfig, create_app
from tests.webreader import CrawledArchive, crawl_for_reader


@pytest.fixture(scope="module")
def crawled(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    return crawl_for_reader(mock_site, tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def api_schema(crawled: CrawledArchive) -> Any:
    app = create_app(ReaderConfig(database_url=crawled.db_url, media_dir=crawled.media))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_api_keeps_its_document(api_schema: Any) -> None:
    # Each operation in turn, through hypothesis directly: schemathesis's own pytest
    # loader (from_fixture) does not run on this pytest.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    paths = {operation.path for operation in operations}
    assert {"/api/search", "/api/articles/{article_id}", "/feed.atom", "/api/stats"} <= paths
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500

        answers_as_documented()
