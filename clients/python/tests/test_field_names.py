"""The SDK's record uses exactly the canonical record's seed field names, read from
packages/schema/record-fields.json (generated from the canonical record in packages/schema)."""

import json
import os
import unittest

from ai_monitor_client import AIMonitorClient
from ai_monitor_client.client import OPTIONAL_FIELDS

from ._support import REPO_ROOT, make_client

FIELDS_JSON = os.path.join(REPO_ROOT, "packages", "schema", "record-fields.json")


@unittest.skipUnless(os.path.exists(FIELDS_JSON), "needs the repository's packages/schema")
class CanonicalFieldNamesTest(unittest.TestCase):
    def setUp(self):
        with open(FIELDS_JSON, encoding="utf-8") as f:
            self.canonical = json.load(f)

    def test_a_full_record_has_exactly_the_canonical_fields(self):
        client = make_client(self, server_url="ws://127.0.0.1:9")  # type: AIMonitorClient
        record = client.build_record(
            "hi",
            "greet",
            [{"tool": "search", "params": {"q": 1}, "duration_ms": 3, "success": True, "error": "e"}],
            12,
            False,
            "Timeout",
            id="r1",
            session_id="s",
            timestamp="2026-02-17T14:30:00Z",
            assistant="a",
            version="1",
            environment="staging",
            model="m",
            user_id="u",
            input_tokens=1,
            output_tokens=2,
            cost_usd=0.5,
            feedback_score=4,
            metadata={"k": "v"},
        )
        self.assertEqual(sorted(record), sorted(self.canonical["record"]))
        self.assertEqual(sorted(record["tools_used"][0]), sorted(self.canonical["tool"]))

    def test_every_optional_keyword_is_a_canonical_field(self):
        self.assertEqual(sorted(set(OPTIONAL_FIELDS) - set(self.canonical["record"])), [])

    def test_every_canonical_field_is_accepted(self):
        # The seed's positional arguments and the keywords build_record handles itself; every
        # other canonical field must be an optional keyword, so a new field is not silently
        # moved into metadata.
        handled = {"id", "session_id", "timestamp", "user_input", "intent", "tools_used",
                   "response_time_ms", "success", "error_type"}
        self.assertEqual(sorted(set(self.canonical["record"]) - handled - set(OPTIONAL_FIELDS)), [])


if __name__ == "__main__":
    unittest.main()
