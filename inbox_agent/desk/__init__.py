"""The desk: every operation on a case, shared by the pipeline, the scheduler, the officer's CLI and web pages.

Each module holds one part, and the imports run one way (each module only imports those above it).
The case state machine itself is ``case_states`` beside the package: the webshop worker, the
figures, health and the work queue read it without importing the desk (the desk queues webshop
work, so a state machine inside the package made a circle with ``webshop_jobs``).

- ``context``: ``Desk``, what every operation is handed (one shop's settings, the clock, who acts);
- ``case_mail``: a case's mail into the outbox, and the officer's notices;
- ``fulfil``: what a result says (``prepare``) and carrying a right out (``execute``);
- ``result_steps``: results only when true: held while a step is open, then written from what was done;
- ``drafting``: the result drafts of a case whose identity is settled;
- ``verification``: codes, order number and postcode, and the verified state;
- ``intake``: a new request becomes a case;
- ``from_review``: a mail on the list to check becomes a case, for the rights the officer chose;
- ``customer_reply``: a customer's reply to an open case;
- ``case_views``: what the officer reads (the list, one case, related cases);
- ``officer``: what the officer does (approve, refuse, extend, close, ...);
- ``merge``: a possible duplicate merged into the older case, or the two kept apart;
- ``spam``: a case closed as spam with no answer, its sender blocked if the officer asks.

Everything runs inside the caller's transaction: the case change, its events and the mails it causes
(outbox rows) commit together or not at all.
"""
