"""Researcher review: decisions (accept, reject, add, with a memo) are inputs in data/review/,
merged over the rules' coding so that every table, number and export counts the reviewed coding.

- `decisions`: the decision file format, reading it strictly, writing it safely.
- `merge`: automatic coding + decisions -> reviewed coding and each decision's outcome.
- `app`: the local review web app (`qualtrace review`).
- `recode`: a REFI-QDA project recoded in another tool -> decisions (`qualtrace import-review`).
"""
