"""Parties: who may do what (access), and what each party may see (need to know).

- :mod:`skypact.parties.model`: :class:`Role`, :class:`Principal` and :class:`Action`.
- :mod:`skypact.parties.access`: the role policy table, :func:`can` and :func:`require`.
- :mod:`skypact.parties.releasability`: the need-to-know filter over the picture and
  the alerts (:func:`visible_picture`, :func:`visible_alerts`, :func:`release_log`).

Everything here is pure: no I/O and no clock (the time is passed in as ``now_s``).
"""
