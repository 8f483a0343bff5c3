"""The client against a real `ark serve` (tests/python_client_test.cc starts one and sets):
ARK_URL, ARK_USER and ARK_TOKEN (an analyst), ARK_PROJECT (their approved project),
ARK_DEFINITION (a study definition file), ARK_VKEY (the ledger's verifier key, read from the Ark's
directory, not from the server), ARK_CHECKER ("user:token" of an output checker)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ark_client import ApiError, Client, ProofError  # noqa: E402

ENV = os.environ


def analyst(**kw):
    return Client(ENV["ARK_URL"], ENV["ARK_USER"], ENV["ARK_TOKEN"], **kw)


class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ark = analyst()
        cls.me = cls.ark.sign_in()
        with open(ENV["ARK_DEFINITION"], encoding="utf-8") as f:
            cls.definition = f.read()

    def test_signed_in_and_the_register(self):
        self.assertEqual(self.me["user"], ENV["ARK_USER"])
        self.assertIn("analyst", self.me["roles"])
        ids = [p["id"] for p in self.ark.projects()]
        self.assertIn(ENV["ARK_PROJECT"], ids)
        self.assertEqual(self.ark.project(ENV["ARK_PROJECT"])["status"], "approved")

    def test_bearer_and_a_wrong_token(self):
        self.assertEqual(analyst(bearer=True).sign_in()["user"], ENV["ARK_USER"])
        with self.assertRaises(ApiError) as e:
            Client(ENV["ARK_URL"], ENV["ARK_USER"], "0" * 64).sign_in()
        self.assertEqual(e.exception.status, 401)

    def test_errors_at_their_line_and_column(self):
        self.assertTrue(self.ark.check(self.definition)["ok"])
        broken = self.definition.replace("variables:", "variables:\n  oops: {exists: no_such_codelist}", 1)
        r = self.ark.check(broken)
        self.assertFalse(r["ok"])
        line = broken.splitlines().index("  oops: {exists: no_such_codelist}") + 1
        self.assertEqual(r["errors"][0]["line"], line, r)
        self.assertGreater(r["errors"][0]["column"], 0)
        with self.assertRaises(ApiError) as e:
            self.ark.submit_run(ENV["ARK_PROJECT"], broken, dummy=True)
        self.assertEqual(e.exception.status, 400)

    def test_dummy_run_then_the_ark_then_a_release(self):
        seen = []
        job = self.ark.submit_run(ENV["ARK_PROJECT"], self.definition, dummy=True, people=80)
        self.assertEqual(job["kind"], "dummy-run")
        done = self.ark.wait(job["id"], on_progress=seen.append, timeout=120)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertGreaterEqual(len(seen), 1)
        self.assertEqual(done["progress"], 1)
        self.assertTrue(done["measures"])

        job = self.ark.submit_run(ENV["ARK_PROJECT"], self.definition)
        self.assertEqual(job["kind"], "run")
        done = self.ark.wait(job["id"], timeout=120)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertIsNotNone(done["run"])
        name = done["measures"][0]
        table = self.ark.measure(done["id"], name)
        rows = self.ark.measure(done["id"], name, dataframe=False)
        self.assertTrue(rows)
        try:
            import pandas
            self.assertIsInstance(table, pandas.DataFrame)
            self.assertEqual(len(table), len(rows))
            self.assertEqual(list(table.columns), list(rows[0].keys()))
        except ImportError:
            self.assertEqual(table, rows)
        self.assertIn(done["id"], [j["id"] for j in self.ark.jobs()])

        out = self.ark.request_release(done["id"], name)
        self.assertEqual(out["state"], "submitted")
        checker_user, checker_token = ENV["ARK_CHECKER"].split(":", 1)
        checker = Client(ENV["ARK_URL"], checker_user, checker_token)
        checker.sign_in()
        queue = checker.outputs()
        queue = queue["outputs"] if isinstance(queue, dict) else queue
        self.assertIn(out["id"], [o["id"] for o in queue])
        checker.sign_out()

    def test_a_ledger_entry_is_verified_here(self):
        cp = self.ark.checkpoint()
        self.assertGreater(cp["size"], 0)
        last = cp["size"] - 1
        r = self.ark.verify_entry(last, ENV["ARK_VKEY"])
        self.assertEqual(r["index"], last)
        proof = self.ark.proof(last)
        with self.assertRaises(ProofError):
            self.ark.verify_entry(last, ENV["ARK_VKEY"], entry=proof["entry"] + " ")
        name, hint, key = ENV["ARK_VKEY"].split("+", 2)
        with self.assertRaises(ProofError):
            self.ark.verify_entry(last, f"{name}+{hint}+{key[:10]}{'A' if key[10] != 'A' else 'B'}{key[11:]}")

    def test_signed_out_is_refused(self):
        c = analyst()
        c.sign_in()
        c.sign_out()
        with self.assertRaises(ApiError) as e:
            c.me()
        self.assertEqual(e.exception.status, 401)


if __name__ == "__main__":
    unittest.main()
