"""``inbox-agent classify`` and ``inbox-agent eval`` (owned by the classifier work)."""
