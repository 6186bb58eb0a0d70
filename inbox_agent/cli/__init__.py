"""Command-line entry point: each command's module is imported when that command is used.

A module registers its commands on ``main`` when imported; ``COMMANDS`` says which modules
define which top-level command (``cases`` has subcommands in ``export_cmd`` and ``triage_cmds``
too) and the one-line summary ``--help`` shows for it, so ``--help`` imports no command module.
tests/unit/test_cli_lazy.py checks the table against what the modules define.
"""

from .app import main

COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "cases": (("cases_cmds", "export_cmd", "triage_cmds"), 'List, inspect and decide privacy cases.'),
    "blocked": (("triage_cmds",), 'Senders blocked with "spam / block sender": list them, or lift a block.'),
    "classify": (("classify_cmds",), 'Classify raw .eml FILES (privacy categories, language, automated).'),
    "eval": (("classify_cmds",), 'Score the classifier on FOLDER (mail/*.eml + labels.jsonl).'),
    "customers": (("customers_cmds",), 'The customer registry: known addresses results may go to.'),
    "suppression": (("customers_cmds",),
        'The direct-marketing suppression list: everyone who objected (GDPR Article 21(3)).'),
    "register": (("customers_cmds",), 'The register of handled requests (facts only, no personal data).'),
    "deadline": (("deadline_cmd",),
        'Deadlines for a request received on YYYY-MM-DD (an ISO date-time with offset works too).'),
    "oauth": (("oauth_cmds",), 'OAuth2 logins for Microsoft 365 and Google mailboxes.'),
    "health": (("ops_cmds",), "Print the agent's health as JSON; exit 1 when unhealthy, 2 on a config error."),
    "metrics": (("ops_cmds",), 'Print the Prometheus figures the daemon writes to ``[metrics] textfile``.'),
    "review": (("review_cmds",), 'Human mail that looks privacy-related but matched no request: to check by hand.'),
    "run": (("run_cmds",), 'Run the daemon (SIGTERM finishes the current step and exits 0).'),
    "check-config": (("run_cmds",), 'Validate the config and try the IMAP and SMTP logins; one line per problem.'),
    "db": (("run_cmds",), 'Database schema management.'),
    "demo": (("run_cmds",),
        'Run the agent end to end on an embedded sandbox (local Dovecot + SMTP sink, seeded mail).'),
    "backfill": (("run_cmds",), 'Handle mail from before the first start, from DATE on, as if it had just arrived.'),
    "web": (("web_cmds",), 'Serve the officer workspace on web.host:web.port (127.0.0.1 unless configured).'),
    "officer": (("web_cmds",),
        'Accounts of the people who log in to the workspace (and decide cases in the terminal).'),
}
main.lazy = COMMANDS

__all__ = ["COMMANDS", "main"]
