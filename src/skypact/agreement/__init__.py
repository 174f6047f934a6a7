"""The agreement: the machine-readable memorandum of understanding between parties.

- :mod:`skypact.agreement.schema`: the TOML file's schema (documented in
  ``docs/agreement.md``), validated with pydantic; units in every key name.
- :mod:`skypact.agreement.document`: parse and validate an agreement's text, with errors
  that name the key and the line; its canonical form.
- :mod:`skypact.agreement.signing`: Ed25519 keys, detached signature files, and whether a
  version is in force (every party has signed exactly these bytes).
"""
