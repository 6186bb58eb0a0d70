"""The SQL of ``cases list`` on SQLite (case_list.py): workqueue.listing, compiled by
workqueue.sqlite_statements.

Generated, do not edit: after a change to the queue's statement, write it
again with ``python -c 'from inbox_agent import workqueue; workqueue.write_sqlite_statements()'``
(tests/unit/test_cli_case_list.py fails until then).
"""

from typing import Any

STATEMENTS: dict[str, tuple[str, dict[str, Any]]]
STATEMENTS = {'all': ('SELECT CASE WHEN ("case".state IN (:state_1_1, :state_1_2, :state_1_3, :state_1_4)) THEN '
         ':param_1 WHEN (EXISTS (SELECT outbox.id \n'
         'FROM outbox \n'
         'WHERE outbox.case_id = "case".id AND outbox.status = :status_1)) THEN :param_2 WHEN '
         '(coalesce("case".deadline_extended, "case".deadline_target) < :now) THEN :param_3 WHEN '
         '(coalesce("case".deadline_extended, "case".deadline_target) < :soon) THEN :param_4 WHEN '
         '(EXISTS (SELECT task.id \n'
         'FROM task \n'
         'WHERE task.case_id = "case".id AND task.status = :status_2)) THEN :param_5 WHEN '
         '("case".state IN (:state_2_1, :state_2_2)) THEN :param_6 ELSE :param_7 END AS anon_1, '
         '"case".reference, "case".shop, "case".state, "case".rights, "case".requester_email, '
         '"case".identity_status, "case".received_at, "case".deadline_target, '
         '"case".deadline_legal, "case".deadline_extended, (SELECT count(outbox.id) AS count_1 \n'
         'FROM outbox \n'
         'WHERE outbox.case_id = "case".id AND outbox.status = :status_3) AS anon_2, (SELECT '
         'count(task.id) AS count_2 \n'
         'FROM task \n'
         'WHERE task.case_id = "case".id AND task.status = :status_4) AS anon_3 \n'
         'FROM "case" ORDER BY CASE WHEN ("case".state IN (:state_1_1, :state_1_2, :state_1_3, '
         ':state_1_4)) THEN :param_1 WHEN (EXISTS (SELECT outbox.id \n'
         'FROM outbox \n'
         'WHERE outbox.case_id = "case".id AND outbox.status = :status_1)) THEN :param_2 WHEN '
         '(coalesce("case".deadline_extended, "case".deadline_target) < :now) THEN :param_3 WHEN '
         '(coalesce("case".deadline_extended, "case".deadline_target) < :soon) THEN :param_4 WHEN '
         '(EXISTS (SELECT task.id \n'
         'FROM task \n'
         'WHERE task.case_id = "case".id AND task.status = :status_2)) THEN :param_5 WHEN '
         '("case".state IN (:state_2_1, :state_2_2)) THEN :param_6 ELSE :param_7 END, '
         'coalesce("case".deadline_extended, "case".deadline_target), "case".id',
         {'param_1': 6,
          'param_2': 0,
          'param_3': 1,
          'param_4': 2,
          'param_5': 3,
          'param_6': 5,
          'param_7': 4,
          'state_1_1': 'completed',
          'state_1_2': 'merged',
          'state_1_3': 'rejected',
          'state_1_4': 'withdrawn',
          'state_2_1': 'awaiting_identity',
          'state_2_2': 'awaiting_clarification',
          'status_1': 'draft',
          'status_2': 'open',
          'status_3': 'draft',
          'status_4': 'open'}),
 'mine': ('SELECT CASE WHEN ("case".state IN (:state_1_1, :state_1_2, :state_1_3, :state_1_4)) '
          'THEN :param_1 WHEN (EXISTS (SELECT outbox.id \n'
          'FROM outbox \n'
          'WHERE outbox.case_id = "case".id AND outbox.status = :status_1)) THEN :param_2 WHEN '
          '(coalesce("case".deadline_extended, "case".deadline_target) < :now) THEN :param_3 WHEN '
          '(coalesce("case".deadline_extended, "case".deadline_target) < :soon) THEN :param_4 WHEN '
          '(EXISTS (SELECT task.id \n'
          'FROM task \n'
          'WHERE task.case_id = "case".id AND task.status = :status_2)) THEN :param_5 WHEN '
          '("case".state IN (:state_2_1, :state_2_2)) THEN :param_6 ELSE :param_7 END AS anon_1, '
          '"case".reference, "case".shop, "case".state, "case".rights, "case".requester_email, '
          '"case".identity_status, "case".received_at, "case".deadline_target, '
          '"case".deadline_legal, "case".deadline_extended, (SELECT count(outbox.id) AS count_1 \n'
          'FROM outbox \n'
          'WHERE outbox.case_id = "case".id AND outbox.status = :status_3) AS anon_2, (SELECT '
          'count(task.id) AS count_2 \n'
          'FROM task \n'
          'WHERE task.case_id = "case".id AND task.status = :status_4) AS anon_3 \n'
          'FROM "case" \n'
          'WHERE ("case".state NOT IN (:state_3_1, :state_3_2, :state_3_3, :state_3_4)) ORDER BY '
          'CASE WHEN ("case".state IN (:state_1_1, :state_1_2, :state_1_3, :state_1_4)) THEN '
          ':param_1 WHEN (EXISTS (SELECT outbox.id \n'
          'FROM outbox \n'
          'WHERE outbox.case_id = "case".id AND outbox.status = :status_1)) THEN :param_2 WHEN '
          '(coalesce("case".deadline_extended, "case".deadline_target) < :now) THEN :param_3 WHEN '
          '(coalesce("case".deadline_extended, "case".deadline_target) < :soon) THEN :param_4 WHEN '
          '(EXISTS (SELECT task.id \n'
          'FROM task \n'
          'WHERE task.case_id = "case".id AND task.status = :status_2)) THEN :param_5 WHEN '
          '("case".state IN (:state_2_1, :state_2_2)) THEN :param_6 ELSE :param_7 END, '
          'coalesce("case".deadline_extended, "case".deadline_target), "case".id',
          {'param_1': 6,
           'param_2': 0,
           'param_3': 1,
           'param_4': 2,
           'param_5': 3,
           'param_6': 5,
           'param_7': 4,
           'state_1_1': 'completed',
           'state_1_2': 'merged',
           'state_1_3': 'rejected',
           'state_1_4': 'withdrawn',
           'state_2_1': 'awaiting_identity',
           'state_2_2': 'awaiting_clarification',
           'state_3_1': 'completed',
           'state_3_2': 'merged',
           'state_3_3': 'rejected',
           'state_3_4': 'withdrawn',
           'status_1': 'draft',
           'status_2': 'open',
           'status_3': 'draft',
           'status_4': 'open'})}
