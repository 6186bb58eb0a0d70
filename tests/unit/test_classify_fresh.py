"""Floors for the fresh mail sets of issue 15, written by people who had not read the rules.

Set A (``fresh_a``) was used for tuning; set B (``fresh_b``) is held out: it was scored once
before the classifier v2 work and once at its end, and nobody tuned on it. The floors sit just
below the figures reached then (A: macro-F1 0.991; B: 0.869, 11 of its requests missed), so a
rule change that loses ground on mail nobody tuned for fails here. B's floor leaves a little more
room: one guard ("your data" is the addressee's, against loops between two desks) came after B's
last scoring. Raising a floor is fine;
tuning a rule by reading fresh_b is not (it would stop measuring anything).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT
from inbox_agent.evaluate import evaluate

FIXTURES = Path(__file__).parents[1] / "fixtures" / "classify"

FLOORS = {
    # set: (macro-F1 at least, none false-positive rate at most, missed requests at most,
    #       automated precision at least, automated recall at least)
    "fresh_a": (0.995, 0.01, 0, 1.0, 1.0),
    # B (held out): 0.869 before v2, 0.872 after it, 0.901 after v3 (none FP 2.5 %, 6 missed; figures only)
    # set C (225 mails, issue 15 v2): 0.852 on the code before v2, tuned on after its first scoring to 0.939, 0.956
    # after v3 (one GDPR pitch with List-Unsubscribe is labelled human there; the agent reads list mail as automated)
    "fresh_c": (0.985, 0.01, 0, 0.95, 1.0),
    # set D (224 mails, held out like B): scored on figures only: 0.845 before v2, 0.843 after it, 0.865 after v3
    # (6 missed instead of 9, automated recall 0.947 -> 1.0), but its none false-positive rate went 4.1 % -> 4.9 %
    # (one more of its ~123 none mails gets a label; which one was not looked at). The lead decides whether v3
    # keeps this or a rule is narrowed further; until then the floor sits at the figure reached.
    # E, F, H (160 mails each, issue 15 v3, tuned on). First, untuned scores of the whole sets on the code before v3
    # (7efc319): E 0.784 (none FP 4.2 %, 23 missed), F 0.752 (10.7 %, 12 missed, automated recall 0.875),
    # H 0.754 (2.7 %, 12 missed, automated recall 0.94). Each batch was also scored once as it arrived, before it
    # was tuned on, with the code of that moment: E 0.828 / 0.673 / 0.832 / 0.826, F 0.798 / 0.704 / 0.786,
    # H 0.866 / 0.714 / 0.618 / 0.681 (per batch of 24-93 mails). Reached after v3: E 0.943, F 0.946, H 0.937.
    "fresh_e": (0.98, 0.01, 1, 1.0, 1.0),
    "fresh_f": (0.99, 0.01, 0, 1.0, 1.0),
    "fresh_h": (0.98, 0.01, 2, 1.0, 1.0),
    # I (tuned on by the main classifier helper): 0.812 when round 2 of issue 15 began (none FP 3.9 %, 14 missed).
    "fresh_i": (0.99, 0.01, 1, 1.0, 1.0),
    # K, L, M (160 mails each, issue 15 round 2; K everyday Dutch replies, L cross-border en/de/fr, M requests said
    # indirectly). First, untuned scores on the code of 742a62d: K 0.750 (none FP 0 %, 18 missed, all 18 silent),
    # L 0.772 (6.1 %, 16 missed, 16 silent), M 0.709 (9.0 %, 23 missed, 22 silent). Reached in round 2:
    # K 0.764 (15 missed, 9 silent), L 0.777 (15, 7), M 0.714 (22, 6).
    # Round 3 (nl/en and de/fr helpers, tuned on): I 0.840 (none FP 2.6 %, 11 missed, 4 silent), K 0.809 (0 %, 10, 4),
    # L 0.828 (1.5 %, 9, 3), M 0.791 (6.4 %, 16, 3); also C 0.969, E 0.962 (2 missed), H 0.943 (1.3 %, 1, 0 silent).
    # G and J (200 mails each, held out like B and D: written this session by two writers who never saw the rules,
    # checked by a second labeller who agreed on 200/200 and 195/200 labels; scored by the lead only, figures only).
    # On the code before v3 (be598ef): G 0.691 (none FP 4.6 %, 38 missed), J 0.781 (4.5 %, 26 missed). After v3 and
    # round 2 (63df390): G 0.760 (3.4 %, 29 missed, 16 of them silent), J 0.819 (3.4 %, 20 missed, 10 silent).
    # Round 3 (this stop), figures only: G 0.777 (26 missed, 13 silent), J 0.815 (20, 10); both none FP 3.4 -> 4.6 %,
    # one mail each, from ba7f850 (scored commit by commit, figures only; which mail was not looked at). The new,
    # untouched set O went the other way (6.4 -> 4.5 %), so the rule stays and the floors sit at the figures reached.
    # Round 12: k068 takes back the erasure its thread asked ("Laat maar zitten hoor, ... we houden het account toch"):
    # none in K, privacy_other in AU (au016, au082: the officer closes the case). The thread rule follows AU.
    "fresh_k": (0.97, 0.015, 1, 1.0, 1.0),
    # Round 5 (de/fr): L misses 3 (l159, a photo named three sentences before "Entfernen Sie es", now found).
    # Round 6 (de/fr): L 0.914 -> 0.917 (l150 negated list after a freeze), M 0.926 -> 0.936 (m152 "aber nicht").
    "fresh_l": (0.98, 0.01, 0, 1.0, 1.0),
    "fresh_m": (0.995, 0.01, 1, 1.0, 1.0),
    # N and O (200 mails each, round 3, by two new writers who never saw the rules; O checked by a blind second
    # labeller: 196/200 exact, none judged wrong). N, "six ordinary weeks of the inbox" (60 % everyday shop mail), was
    # tuned on: 0.859 (none FP 5.0 %, 8 missed, 2 silent) on b4c9132 before any change, 0.880 (3.6 %, 6, 2) reached.
    # O is held out (lead only, figures only): 0.868 (none FP 6.4 %, 8 missed, 6 silent) before, 0.879 (4.5 %, 8, 6).
    "fresh_n": (0.995, 0.01, 0, 1.0, 1.0),
    # Round 4 (nl/en and de/fr helpers, tuned on, HEAD figures): E 0.966 (1 missed), F 0.969 (0), H 0.943, I 0.861 (9),
    # K 0.845 (5 missed, 3 silent), L 0.884 (5, 0), M 0.887 (none FP 3.8 %, 8, 1), N 0.954 (2.1 %, 0), dev 1.000.
    # Q (200 mails, round 4, look-alikes: pronoun requests, restores, parcel 'Auskunft', pitches): 0.847 untouched
    # (none FP 12.8 %, 11 missed, 6 silent) on d5c1df5, tuned on to 0.917 (3.2 %, 3 missed, 1 silent); its "to check"
    # share of none mail was 4.3 %, 3.2 % at the end (a right told as done, "ik heb me zelf uitgeschreven", is listed).
    # Precision helper (round 4, after the pointer rules rose three held-out none FP rates by one mail each): F 0.971,
    # H 0.948 (none FP 0 %), N 0.965 (0.7 %), Q 0.942 (0 %; q067 and q150 relabelled after the second labelling),
    # L 0.887 (0 %), M 0.890 (2.6 %).
    # Round 5 (privacy_other helper: concerns.toml, privacy_other by concept), tuned on: E 0.966 -> 0.978,
    # H 0.948 -> 0.965, K 0.845 -> 0.921 (privacy_other F1 0.33 -> 0.89), L 0.887 -> 0.909 (5 -> 3 missed),
    # M 0.890 -> 0.917, Q 0.942 -> 0.971 (3 -> 2 missed).
    # Round 6 (privacy_other helper, with the two tuners' work of the same hours), tuned on, 610f332 -> HEAD:
    # C 0.970 -> 0.974, H 0.966 -> 0.962 (a rectification from elsewhere; privacy_other F1 0.962 -> 0.975),
    # I 0.879 -> 0.895 (7 -> 6 missed), K 0.921 -> 0.939 (5 -> 4, 2 -> 1 silent), M 0.926 -> 0.930-0.936,
    # N 0.975 -> 0.979, Q 0.974 -> 0.981 (2 -> 1 missed; "to check" share of none mail 3.2 -> 2.1 %).
    "fresh_q": (0.985, 0.01, 0, 1.0, 1.0),
        # Round 4, held out (lead only, figures only), 7183aab -> HEAD: O 0.879 -> 0.893 (none FP 4.5 -> 4.5 %, 8 -> 7
    # missed), G 0.777 -> 0.795 (4.6 -> 4.6 %, 26 -> 25), J 0.815 -> 0.820 (4.5 -> 4.5 %, 20 -> 19), B 0.908 -> 0.911
    # (2.5 -> 1.7 %, 5 -> 3), D 0.862 -> 0.868 (4.9 %, 6 -> 5). The pointer rules of ac7cdc6 first rose the none FP of
    # O, G and J by one mail each; the precision work brought all three back. P (200 mails, new this round, held out,
    # second labeller 198/200 exact): 0.893 (none FP 4.2 %, 5 missed, 4 silent) untouched on 7183aab, 0.900 (3.4 %,
    # 5, 4) at the end; its "to check" share of none mail is 3.4 % on both.
    "fresh_o": (0.955, 0.02, 1, 1.0, 1.0),
    # Round 6: G and J released from held-out to the precision helper (tuned on from here; the lead removes HELD_OUT).
    # Before, on 00a5738: G 0.815 (none FP 4.6 %, 22 missed, 9 silent, to-check share of none 0 %), J 0.826 (4.5 %, 19,
    # 9, 1.1 %). After the precision work: G 0.844 (1.1 %, 17, 8, 1.1 %), J 0.870 (2.3 %, 9, 3, 2.3 %). Their none false
    # positives left are privacy_other (a product's cloud asked about, a checkout feature, a privacy statement to copy).
    "fresh_g": (0.975, 0.01, 3, 1.0, 1.0),
    "fresh_j": (0.975, 0.01, 1, 1.0, 1.0),
    "fresh_b": (0.965, 0.01, 0, 1.0, 1.0),
    "fresh_d": (0.95, 0.025, 0, 1.0, 1.0),
    # Round 5, held out (lead only, figures only): P's none FP rose by one mail, 3.4 -> 4.2 %, with 1dec28b
    # (privacy_other by concept; found by scoring commit by commit, not tuned on), while its missed went 5 -> 4.
    # R (200 mails, new this round, held out): 0.887 (none FP 6.9 %, 5 missed, 3 silent) untouched on e807cc7,
    # 0.903 (6.9 %, 5, 3) at the end.
    "fresh_p": (0.96, 0.01, 2, 1.0, 1.0),
    # Round 6, held out (lead only, figures only), 610f332 -> end of round: B, D, O unchanged (0.922, 0.876, 0.902),
    # P 0.899 -> 0.919 (none FP 4.2 %, 4 missed), R 0.906 -> 0.899 (6.0 %, 5 missed, 3 silent; after its second
    # labelling fixed r037/r045; privacy_other F1 0.83 -> 0.78, two Dutch mails lost with e696b88's period words and
    # not won back by 2b4ea13/4088b7c, which were not tuned on R either: its floor sits at the figure reached).
    # S (150 mails, completed this round by two more writers, second labelled 145/150, s003/s025/s044 fixed; the
    # round's hard cases): 0.739 (none FP 10.5 %, 14 missed, 7 silent, to-check 3.9 %) untouched on 610f332,
    # 0.748 (9.2 %, 14, 7) at the end. T (150 mails, new, a normal month: 55 % ordinary mail, second labelled
    # 150/150): 0.857 (6.2 %, 5 missed, 2 silent, to-check 2.1 %) untouched on 610f332, 0.861 (6.2 %, 5, 2) at the end.
    "fresh_r": (0.95, 0.01, 1, 1.0, 1.0),
    # Round 9: a right the models add beside a question the rules found (no complaint or leak worry) takes 0.8
    # (add_right_beside_question, was add_right 0.4): R 0.935 -> 0.937, U 0.870 -> 0.875, S 0.855 -> 0.850 with one
    # more request missed (7 -> 8; it keeps its privacy_other case, so the officer reads it: silent stays 3).
    "fresh_s": (0.855, 0.03, 8, 1.0, 1.0),
    # Round 9: a right the rules found that the models read in its own paragraph (keep_right_paragraph 0.5) is kept:
    # tuning set AC (requests in the P.S. of long mail) 0.814 -> 0.918 (missed 13 -> 2), V 0.934 -> 0.946 (missed 5 ->
    # 4), T 0.934 -> 0.930 (one mail of it, missed unchanged), the others unchanged.
    # Round 11: an earlier request told unanswered by its silence stands again ("bis heute nichts erhalten. Bitte
    # schicken Sie mir die Auskunft"): T 0.930 -> 0.937, figures only.
    "fresh_t": (0.92, 0.025, 2, 1.0, 1.0),
    # Round 7: the learned second opinion (classify/second_opinion.py) beside the rules. The seven sets above were
    # held out from every rule change; this round they served as validation for the second opinion's design and
    # thresholds (figures only), so two new sets were written and second labelled for the honest figure, scored
    # once on the rules alone (036ac08) and once at the end: U (120 mails, hard cases, 118/120 second labels)
    # 0.830 (none FP 5.1 %, 6 missed, 2 silent) -> 0.870 (1.7 %, 4, 1); V (120 mails, a normal month, 119/120)
    # 0.871 (3.8 %, 7, 2) -> 0.934 (0 %, 5, 1). Validation, 036ac08 -> end: B 0.922 -> 0.948,
    # D 0.876 -> 0.936 (none FP 4.9 -> 2.4 %: an "unclear request" the rules keep),
    # O 0.902 -> 0.949, P 0.919 -> 0.952, R 0.899 -> 0.932, S 0.748 -> 0.855, T 0.861 -> 0.934; none FP 5.0 % -> 1.6 %,
    # missed 42 -> 12 of 486 requests. The "to check" share of none mail rose (S 3.9 -> 11.8 %, T 2.1 -> 7.2 %): a
    # rule hit the models take back goes there rather than away.
    "fresh_u": (0.91, 0.035, 2, 1.0, 1.0),
    # Round 10 (figures only): V 0.946 -> 0.955, R 0.937 -> 0.940, the other validation and held-out sets unchanged.
    "fresh_v": (0.955, 0.01, 4, 1.0, 1.0),
    # Round 8: the models add no right or privacy_other to a mail holding no word of it the rules know: O 0.949 -> 0.953
    # (none FP 2.7 -> 1.8 %), R 0.932 -> 0.935, the others unchanged; real-world human mail (shared/corpus/mail/zammad)
    # given a right or privacy_other 21 -> 7 of 93.
    "fresh_x": (0.925, 0.025, 3, 1.0, 1.0),
    "fresh_y": (0.95, 0.02, 1, 1.0, 1.0),
    # Round 9. Tuning sets written this round by seven writers who never read the rules (100 mails each), scored when
    # they arrived (the code of that moment) and at the end of the round: W (hard cases and a December month) 0.900
    # (2 missed) -> 0.952 (0); AA (another person or direction beside privacy words) 0.962 -> 0.984; AB (a winter
    # month, threads and follow-ups) 0.946 (1 missed) -> 0.942 (1); AC (requests in the P.S. of long mail) 0.814 (13
    # missed, 4 silent) -> 0.918 (2, 1); AD (privacy_other in all its forms) 0.914 -> 0.939 (1 missed -> 0); AE
    # (rectification, restriction, portability in everyday words) 0.917 -> 0.925; AF (objection and erasure as said)
    # 0.921 -> 0.926 (2 missed -> 1).
    "fresh_w": (0.975, 0.01, 0, 1.0, 1.0),
    "fresh_aa": (0.985, 0.01, 0, 1.0, 1.0),
    "fresh_ab": (0.995, 0.01, 0, 1.0, 1.0),
    "fresh_ac": (0.99, 0.01, 0, 1.0, 1.0),
    "fresh_ad": (0.97, 0.01, 0, 1.0, 1.0),
    "fresh_ae": (0.96, 0.02, 1, 1.0, 1.0),
    "fresh_af": (0.99, 0.01, 0, 1.0, 1.0),
    # AG (threads: replies to the shop's own mails, forwards, clutter) 0.937 (3 missed, all silent: "ja graag, doe
    # maar" / "nee bedankt" answering the shop's quoted question, which the rules never read as a trigger) -> 0.937;
    # AH (very short phone mail) 0.928 (2 missed) -> 0.948 (1).
    # Round 12: a bare yes or no read with the question it answers ("ja graag, doe maar", "nee bedankt", "non merci"):
    # AG 0.937 (3 missed, all silent) -> 0.958 (0).
    "fresh_ag": (0.99, 0.01, 0, 1.0, 1.0),
    "fresh_ah": (0.985, 0.01, 0, 1.0, 1.0),
    # Z (held out, 100 mails: a Black Friday month and privacy mail of every kind), figures only: 0.947 (none FP 0 %,
    # 1 missed, 0 silent, to check 1.8 %) at the start of round 9, 0.953 (0 %, 1, 0, 1.8 %) at its end.
    "fresh_z": (0.96, 0.01, 0, 1.0, 1.0),
    # Round 10. Tuning sets written this round by writers who never read the rules (100 mails each), scored when they
    # arrived and at the end of the round: AJ (short plain requests and same-shaped shop mail) 0.963 -> 0.988; AK
    # (French: France, Belgium, Switzerland; fr 60 of 100) 0.930 (1 missed) -> 0.964 (1); AL (mail asking more than one
    # thing) 0.912 (5 missed, 3 silent) -> 0.939 (2, 1); AM (writing for someone else, data that reached the wrong
    # person, reports of what the shop did) 0.898 (1, 1) -> 0.909 (1, 1).
    "fresh_aj": (0.995, 0.01, 0, 1.0, 1.0),
    "fresh_ak": (0.995, 0.01, 0, 1.0, 1.0),
    "fresh_al": (0.985, 0.01, 0, 1.0, 1.0),
    "fresh_am": (0.985, 0.01, 0, 1.0, 1.0),
    # AI (held out, 100 mails: mid-December to early January), figures only: 0.942 (none FP 0 %, 0 missed, to check
    # 0 %) at the start of round 10 and at its end.
    "fresh_ai": (0.94, 0.01, 0, 1.0, 1.0),
    # Round 11. Tuning sets written this round by writers who never read the rules (100 mails each), scored when they
    # arrived (round-start code a76d8c6) and at the end of the round: AO (questions and worries about handling, beside
    # look-alike shop mail) 0.925 (none FP 3.8 %, to check 5.7 %) -> 0.967 (0 %, 3.8 %); AP (very short phone mail and
    # subject-heavy mail) 0.964 -> 0.975; AQ (German and English, formal letters, several rights, B2B mail with GDPR
    # words) 0.974 -> 0.992.
    "fresh_ao": (0.99, 0.01, 0, 1.0, 1.0),
    "fresh_ap": (0.99, 0.01, 0, 1.0, 1.0),
    "fresh_aq": (0.995, 0.01, 0, 1.0, 1.0),
    # AS (the rights people rarely name: restriction, portability, objection, odd fields) 0.823 (none FP 5.5 %, 2
    # missed, 2 silent) -> 0.883 (1.8 %, 1, 1).
    "fresh_as": (0.955, 0.01, 1, 1.0, 1.0),
    # AT (mail in threads: replies to the shop's own mails, the shop's text quoted) arrived after the round's tuning:
    # 0.948 (none FP 1.8 %, 1 missed, 1 silent, to check 3.6 %) on its first scoring, not tuned on yet.
    # Round 12 (tuned on from here): 0.948 -> 0.971 (1 missed -> 0; a chase of the request in the thread, a pointing
    # word after "from my account", a thanks for the acknowledgement).
    "fresh_at": (0.99, 0.01, 0, 1.0, 1.0),
    # Round 12. Tuning sets written this round by writers who never read the rules (100 mails each), scored when they
    # arrived (round-start code 7b95453) and at the end of the round: AU (customers answering the shop in threads: bare
    # yes/no to the quoted question, chases, withdrawals) 0.771 (none FP 3.7 %, 8 missed, all silent) -> 0.946 (0 %,
    # 3, 3; the three are answers to the identity check, "ja dat klopt" or an order number, which AT labels none);
    # AW (privacy rights among other business) 0.976 (1 missed) -> 0.981 (1).
    "fresh_au": (0.98, 0.01, 1, 1.0, 1.0),
    "fresh_aw": (0.995, 0.01, 0, 1.0, 1.0),
    # AY (French and German only, everyday phrasings, rights inside complaints) 0.950 (2 missed, 0 silent) -> 0.980
    # (1); ay018 (a bounce labelled fr because the set had to be fr/de; its notice is English) stays a language miss.
    "fresh_ay": (0.985, 0.01, 0, 1.0, 1.0),
    # AN (held out, 100 mails: late January to early March), figures only: 0.978 (none FP 1.8 %, 0 missed, to check
    # 0 %) at the start of round 11 and at its end.
    "fresh_an": (0.98, 0.02, 0, 1.0, 1.0),
    # AR (held out, 100 mails: April to mid-May), figures only: 0.939 (none FP 0 %, 1 missed, 0 silent, to check 0 %)
    # on the round-start code and at the end of round 11.
    "fresh_ar": (0.94, 0.01, 1, 1.0, 1.0),
    # AV (held out, 100 mails: August and September, the general mix), figures only: 0.964 (none FP 1.8 %, 2
    # missed, 0 silent, to check 1.8 %) on the round-start code and at the end of round 12.
    "fresh_av": (0.965, 0.01, 2, 1.0, 1.0),
    # AX (held out, 100 mails: an ordinary October, 55 % everyday shop mail), figures only: 0.965 (none FP 0 %, 0
    # missed, to check 0 %) on the round-start code and on the round's code when it arrived.
    "fresh_ax": (0.97, 0.01, 0, 1.0, 1.0),
    # Round 13, each scored on the round-start code f673411 first. AZ (held out, 100 mails: January to mid-February,
    # the winter mix), figures only: 0.902 (none FP 3.6 %, 0 missed, to check 0 %, automated recall 0.9: one of its
    # ten robots is read as a person) at the start and at the end. BA (tuning: long phone mails with the request
    # buried in a complaint) 0.829 (5 missed, 1 silent) at both: its misses are rights the rules read and the models
    # take back (a German and a French erasure at the end of a complaint), see issue 15's note. BB (tuning: the border
    # of privacy_other) 0.920 (none FP 1.9 %, 1 missed) -> 0.944 (0 %, 1).
    "fresh_az": (0.91, 0.02, 0, 1.0, 0.9),
    "fresh_ba": (0.96, 0.01, 1, 1.0, 1.0),
    "fresh_bb": (0.99, 0.01, 0, 1.0, 1.0),
    # Round 14. BC (held out, 100 mails: mid-May to June, early summer), scored on the round-start code 1e2b25e first,
    # figures only: 0.908 (none FP 3.7 %, 0 missed, to check 3.7 %, automated 1.0/1.0) at the start and at the end.
    "fresh_bc": (0.92, 0.02, 0, 1.0, 1.0),
    # Round 14: the models were retrained on every set not held out (sets W-BB trained on for the first time), and the
    # models add a right only where the mail names it by two word groups of one of its rules or a phrase. Every floor
    # above was redrawn at the figures then reached (a tuning set is now a training set: most rose to 0.97-1.0).
    # Held out, round start -> end (figures only): X 0.928 -> 0.928 (2 -> 3 missed), Y 0.941 -> 0.953, Z 0.953 ->
    # 0.961 (1 -> 0 missed), AI 0.942 -> 0.942, AN 0.978 -> 0.983, AR 0.939 -> 0.944, AV 0.964 -> 0.970, AX 0.965 ->
    # 0.971, AZ 0.902 -> 0.910, BC 0.908 -> 0.923; 7 of 371 requests missed at both ends, none silent.
    # Validation: B 0.952 -> 0.965, D 0.939 -> 0.951, O 0.953 -> 0.956 (2 -> 1 missed), P 0.952 -> 0.963, R 0.940 ->
    # 0.953 (0 -> 1 missed, silent), S 0.853 -> 0.859, T 0.937 -> 0.924 (1 -> 2 missed; none FP 1.0 -> 2.1 %), U 0.881
    # -> 0.914 (4 -> 2 missed), V 0.955 -> 0.956; 21 -> 20 of 564 requests missed, 8 -> 7 silent. T's and R's floors
    # went down with this; the mean rose.
}

SILENT = {
    # missed requests that reach nobody (no case, not on the "to check" list) at most, and the share of the none
    # mail put on that list at most (the review net must stay a net, not a second inbox: issue 15 item 6)
    "fresh_a": (0, 0.005),
    "fresh_c": (0, 0.005),
    "fresh_e": (0, 0.005),
    "fresh_f": (0, 0.005),
    "fresh_h": (0, 0.005),
    "fresh_i": (0, 0.005),
    "fresh_k": (0, 0.005),
    "fresh_l": (0, 0.005),
    "fresh_m": (0, 0.005),  # round 7: hits the second opinion takes back go to "to check" (0 -> 3.85 %); round 8: 1.3 %
    "fresh_n": (0, 0.005),
    "fresh_q": (0, 0.005),
    "fresh_g": (1, 0.015),
    "fresh_j": (0, 0.005),  # round 7: 3 -> 0 silent; "to check" 2.3 -> 4.5 % (hits taken back); round 8: 2.3 %
    # Validation sets, round 8: a mail goes to "to check" (a hit taken back, or a half match of the rules) only when
    # the models give some right or privacy_other at least check_from (0.03). "To check" share of none mail:
    # B 1.7 -> 0.0, D 3.3 -> 0.8, O 3.6 -> 0.9, P 5.9 -> 2.5, R 5.0 -> 1.0, S 11.8 -> 7.9, T 7.2 -> 3.1,
    # U 5.1 -> 3.4, V 2.6 -> 0.0 %; no request newly silent (on these nor on the tuning sets, dev, letters).
    "fresh_b": (0, 0.005),
    "fresh_d": (0, 0.01),
    "fresh_o": (0, 0.02),
    "fresh_p": (2, 0.01),
    "fresh_r": (1, 0.005),
    "fresh_s": (3, 0.055),
    "fresh_t": (0, 0.005),
    "fresh_u": (0, 0.005),
    "fresh_v": (1, 0.005),
    # X and Y (held out, written this round by two writers who never saw the rules; 100 mails each, figures only),
    # scored on the rules alone (036ac08), at the start of round 8 (503d7ff) and at its end:
    # X (hard cases) 0.805 (none FP 10.4 %, 6 missed, 0 silent, to check 2.1 %) -> 0.928 (2.1 %, 2, 0, 10.4 %) -> 0.928
    # (2.1 %, 2, 0, 8.3 %); Y (a normal month) 0.874 (4.6 %, 2, 0, 1.5 %) -> 0.941 (1.5 %, 1, 0, 6.1 %) -> 0.941 (1.5 %,
    # 1, 0, 3.1 %).
    "fresh_x": (0, 0.045),  # round 11: 6.2 -> 4.2 % (a retention question inside a French erasure asks no copy)
    "fresh_y": (0, 0.02),
    # Round 9: check_from 0.03 -> 0.045 (on the tuning sets the shop mail on the list scored 0.030-0.044, every request
    # or privacy_other on it 0.048 or more). "To check" share of none mail: X 8.3 -> 6.2 %, S 7.9 -> 6.6, U 3.4 -> 1.7,
    # D 0.8 -> 0, AC 7.3 -> 0, AF 5.6 -> 3.7, AE 3.6 -> 1.8, W and Z 1.8 -> 0; no request newly silent on any set.
    # The round-9 sets (see FLOORS) at the end of the round:
    "fresh_w": (0, 0.02),
    "fresh_aa": (0, 0.005),
    "fresh_ab": (0, 0.005),
    "fresh_ac": (0, 0.005),
    "fresh_ad": (0, 0.005),
    "fresh_ae": (0, 0.02),
    "fresh_af": (0, 0.005),  # af066 (stay subscribed) moved from an objection to "to check"
    "fresh_z": (0, 0.005),
    "fresh_ag": (0, 0.005),
    "fresh_ah": (0, 0.005),
    # Round 10 (see FLOORS); AM's none mail on the list is a thank-you for a correction done, which the rules no longer
    # read as a new request (am080: rectification -> none, to check)
    "fresh_aj": (0, 0.005),
    "fresh_ak": (0, 0.005),
    "fresh_al": (0, 0.005),
    "fresh_am": (0, 0.04),
    "fresh_ai": (0, 0.005),
    # Round 11 (see FLOORS)
    "fresh_ao": (0, 0.005),
    "fresh_ap": (0, 0.02),
    "fresh_aq": (0, 0.005),
    "fresh_as": (0, 0.005),
    "fresh_at": (0, 0.02),
    # Round 12 (see FLOORS)
    "fresh_au": (1, 0.005),  # au053 ("they only keep it 7 days", the carrier) moved from restriction to "to check"
    "fresh_aw": (0, 0.005),
    "fresh_ay": (0, 0.005),
    "fresh_av": (0, 0.04),
    "fresh_ax": (0, 0.005),
    "fresh_an": (0, 0.005),
    "fresh_ar": (0, 0.005),
    # Round 13 (see FLOORS)
    "fresh_az": (0, 0.005),
    "fresh_ba": (0, 0.005),
    "fresh_bb": (0, 0.005),
    "fresh_bc": (0, 0.04),
    # Round 14 (see FLOORS): every entry redrawn at the figures reached with the retrained models.
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(REPO_ROOT / "classifiers")


@pytest.fixture(scope="module")
def reports(classifier: Classifier) -> Callable[[str], dict[str, Any]]:
    """Each set evaluated once for both tests below: this file is the suite's slowest (53 sets of 100-225 mails)."""
    cache: dict[str, dict[str, Any]] = {}

    def report(name: str) -> dict[str, Any]:
        if name not in cache:
            cache[name] = evaluate(classifier, FIXTURES / name)
        return cache[name]

    return report


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_fresh_set_holds_its_floor(reports: Callable[[str], dict[str, Any]], name: str) -> None:
    macro_f1, none_fp, missed, automated_precision, automated_recall = FLOORS[name]
    report = reports(name)
    # Figures only: the messages of the held-out set are not to be read while working on rules.
    figures = {k: report[k] for k in ("macro_f1", "none_false_positive_rate", "automated", "language_accuracy")}
    assert report["macro_f1"] >= macro_f1, figures
    assert report["none_false_positive_rate"] <= none_fp, figures
    assert len(report["missed_requests"]) <= missed, figures
    assert report["automated"]["recall"] >= automated_recall, figures
    assert report["automated"]["precision"] >= automated_precision, figures
    assert report["language_accuracy"] >= 0.99, figures


@pytest.mark.parametrize("name", sorted(SILENT))
def test_fresh_set_loses_no_request_in_silence(reports: Callable[[str], dict[str, Any]], name: str) -> None:
    silent, review_share = SILENT[name]
    report = reports(name)
    assert len(report["missed_silent"]) <= silent, report["missed_silent"]
    assert report["review_none_rate"] <= review_share, report["review_none_rate"]
