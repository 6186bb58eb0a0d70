"""inbox-agent: a shop's shared mailbox as a GDPR privacy-request desk."""

__version__ = "0.1.0"
